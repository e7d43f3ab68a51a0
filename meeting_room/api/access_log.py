"""Keep session tokens out of the server's logs: uvicorn writes every request line (and every
WebSocket handshake) with its path and query, so an invitation link ``/join/<token>`` or a
WebSocket's ``?token=`` would sit in the log in clear. A filter on uvicorn's loggers rewrites them
before any handler sees the record."""

from __future__ import annotations

import logging
import re

LOGGERS = ("uvicorn.access", "uvicorn.error")  # request lines; WebSocket handshakes
REDACTED = "[redacted]"
_SECRETS = (
    (re.compile(r"(/join/)[^/?#\s\"]+"), rf"\g<1>{REDACTED}"),
    (re.compile(r"([?&](?:token|access_token)=)[^&#\s\"]*", re.IGNORECASE), rf"\g<1>{REDACTED}"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactTokens(logging.Filter):
    """Replaces token values (``?token=``) and the ``/join/`` link's segment in a record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Put the filter on uvicorn's loggers (once; after uvicorn configured its logging)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())
