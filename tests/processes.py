"""Whether a worker process has ended, as the tests check it."""

from __future__ import annotations


def ended(pid: int) -> bool:
    """The process is gone or a zombie. ``is_alive()`` cannot say: the pool's own thread reaps its
    workers too, and a ``waitpid`` that finds the child already reaped reads as "still running"."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
