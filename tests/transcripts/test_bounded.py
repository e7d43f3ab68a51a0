"""Work on someone else's file in a worker whose CPU time is capped: a task that overruns is stopped
by the kernel, said as an overrun, and the next task gets a fresh worker."""

from __future__ import annotations

import time

import pytest

from transcripts.bounded import Bounded, Overrun
from transcripts.errors import SigningError


def spin(seconds: float) -> str:
    """CPU work for ``seconds`` of the worker's own CPU time."""
    import resource

    def spent() -> float:
        used = resource.getrusage(resource.RUSAGE_SELF)
        return used.ru_utime + used.ru_stime

    start = spent()
    while spent() - start < seconds:
        sum(range(10_000))
    return "xong"


def refuse(name: str) -> None:
    raise SigningError(f"Tệp {name} hỏng", f"{name} is damaged", name=name)


def test_a_task_over_its_cpu_time_is_stopped_and_the_next_runs_in_a_fresh_worker() -> None:
    bounded = Bounded(1, wall_s=60)
    assert bounded.run(spin, 0.2) == "xong"
    started = time.monotonic()
    with pytest.raises(Overrun):
        bounded.run(spin, 30)
    assert time.monotonic() - started < 20  # the kernel stopped it at about 2 s, not 30
    assert bounded.run(spin, 0.2) == "xong"


def test_a_refusal_in_the_worker_comes_back_as_itself() -> None:
    """With its Vietnamese and English messages and details, not as a broken worker."""
    with pytest.raises(SigningError) as err:
        Bounded(5, wall_s=60).run(refuse, "chu-ky.p12")
    assert (err.value.message_vi, err.value.message_en, err.value.details) == (
        "Tệp chu-ky.p12 hỏng",
        "chu-ky.p12 is damaged",
        {"name": "chu-ky.p12"},
    )
