"""How much of the machine's CPU a thread yields to the rest of the server, in one ladder:

1. the server itself (its event loop, the calls' mixer and decoders, the microphones): a call's
   audio is due every 20 ms;
2. the live captions' models (``live``): a caption is due within seconds;
3. work that may wait (``background``): attendance from faces, face imports, final passes.

Measured (README, "Remote participants", 2026-12-04): with 16 open microphones, two of them
talking and the room's captions decoding, the machine's two cores were full; with the live Whisper
at nice +5 the event loop woke over 50 ms late on 0.12-0.78 of its timers and 0.93-1.00 of the
audio reached the members (9 runs); at nice +19, 0.004-0.067 and 1.00 in each of 6 runs.
Background work then has to stay below the captions, which nice alone can no longer say: it runs
under ``SCHED_IDLE``.

Linux priorities are per thread and inherited by the threads a thread starts (CTranslate2's and
torch's compute threads take those of the thread that loads or first runs a model), and the
server may lower them but not raise them back, so each is set on a thread of its own.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger(__name__)

LIVE_NICE = 19  # added to the server's nice value (capped at 19)


def live() -> None:
    """This thread, and every thread it starts from now on, yields to the server's own work."""
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + LIVE_NICE))
    except OSError as exc:  # not allowed: it just runs at the server's priority
        log.warning("cannot lower a live model's thread priority: %s", exc)


def background() -> None:
    """This thread (or a worker process's main thread), and every thread it starts from now on,
    runs only when the server and the live captions leave a core free (``SCHED_IDLE``)."""
    tid = threading.get_native_id()
    try:
        os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError) as exc:  # not Linux, or not allowed: the lowest nice value instead
        log.warning("cannot run background work under SCHED_IDLE (%s): nice 19 instead", exc)
        try:
            os.setpriority(os.PRIO_PROCESS, tid, 19)
        except OSError:
            pass
