"""How much of the machine's CPU a thread yields to the rest of the server, in one ladder:

1. the server itself (its event loop, the calls' mixer and decoders, the microphones): a call's
   audio is due every 20 ms;
2. threads of the server process that compute for seconds: the live captions' models (``live``: a
   caption is due within seconds) and work that may wait (``background``: final passes, face
   imports), both at nice +19;
3. worker processes that share nothing with the server but a pipe (``idle_process``: face
   analysis): ``SCHED_IDLE``, below the live captions.

A job queue's worker (``meeting-room worker``, perhaps on the server's machine) is all work that may
wait: ``background_process`` puts all its threads on step 2.

Measured (README, "Remote participants", 2026-12-04): with 16 open microphones, two of them
talking and the room's captions decoding, the machine's two cores were full; with the live Whisper
at nice +5 the event loop woke over 50 ms late on 0.12-0.78 of its timers and 0.93-1.00 of the
audio reached the members (9 runs); at nice +19, 0.004-0.067 and 1.00 in each of 6 runs.

Why background threads are not lower still: a thread of the server process holds Python's lock
while it runs Python, and sometimes the store's writer lock or a model-loading lock; under
``SCHED_IDLE`` (weight 3 against nice 0's 1024) a busy machine could leave it holding them for
long, and the event loop, the votes and the live captions would wait behind it (a priority
inversion). Worker processes hold none of those.

Linux priorities are per thread and inherited by the threads a thread starts (CTranslate2's and
torch's compute threads take those of the thread that loads or first runs a model), and the
server may lower them but not raise them back, so each is set on a thread of its own.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

LIVE_NICE = 19  # added to the server's nice value (capped at 19)
BACKGROUND_NICE = 19  # the same: see above


def _lower(by: int, tid: int | None = None) -> None:
    tid = threading.get_native_id() if tid is None else tid
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + by))
    except OSError as exc:  # not allowed: it just runs at the server's priority
        log.warning("cannot lower a thread's priority: %s", exc)


def live() -> None:
    """This thread, and every thread it starts from now on, yields to the server's own work."""
    _lower(LIVE_NICE)


def background() -> None:
    """This thread of the server process (work that may wait), and every thread it starts from
    now on, yields to the server's own work."""
    _lower(BACKGROUND_NICE)


def background_process() -> None:
    """Every thread of this process (a job queue's worker: all it does may wait), those already
    running (numpy's BLAS starts its own at import) and those they start, as ``background``."""
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():  # not Linux: this thread at least
        background()
        return
    for task in tasks.iterdir():
        _lower(BACKGROUND_NICE, int(task.name))


def idle_process() -> None:
    """This worker process (called on its main thread, before it starts any other) runs only on
    what the server and the live captions leave of the cores (``SCHED_IDLE``)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError) as exc:  # not Linux, or not allowed: the lowest nice value instead
        log.warning("cannot run a worker process under SCHED_IDLE (%s): nice 19 instead", exc)
        try:
            os.setpriority(os.PRIO_PROCESS, 0, 19)
        except OSError:
            pass
