"""The served process's heap: what lives as long as the server goes out of the cycle collector's view.

Python's full collections walk every tracked object. The app's imports alone make ~210,000 of them
(~100 ms a pass with the event loop held; torch's bring it to ~190 ms), and a full pass comes every
few dozen requests under load: the tail of every latency. ``meeting-room serve`` calls ``settle``
once before it serves; the speech models, loaded later in their own threads, call ``settle_again``
once each. Only the served process settles: the tests' many apps and stores are never frozen.
Garbage is collected first; what stays frozen is freed by reference counting as ever, only a
cycle among those objects that becomes garbage later is kept (a bounded, one-off cost).
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_settled = False


def settle() -> None:
    """Collect, then freeze every object there is: from now on full collections skip them."""
    global _settled
    with _lock:
        gc.collect()
        gc.freeze()
        _settled = True


def settle_again() -> None:
    """After a long-lived load (a model): freeze what it made, in a process that settled (else nothing)."""
    with _lock:
        if _settled:
            gc.collect()
            gc.freeze()
