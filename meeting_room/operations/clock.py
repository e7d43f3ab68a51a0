"""Is the system clock synchronised? Meeting records are legal documents: every event, vote and
signature carries the server's time, so a clock that drifts unnoticed puts wrong times into them.

The kernel knows: whichever daemon keeps time (systemd-timesyncd, chrony, ntpd) clears the
``STA_UNSYNC`` flag once it has disciplined the clock, and ``adjtimex`` (read-only with
``modes = 0``) then returns ``TIME_OK`` instead of ``TIME_ERROR``. That works without systemd and
whatever the daemon; ``timedatectl`` names the daemon's view where systemd runs."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import subprocess
from dataclasses import dataclass

TIME_ERROR = 5
STA_UNSYNC = 0x0040


class _Timex(ctypes.Structure):  # struct timex of <sys/timex.h> (Linux)
    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long), ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long), ("status", ctypes.c_int), ("constant", ctypes.c_long), ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long), ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int), ("_reserved", ctypes.c_int * 11),
    ]  # fmt: skip


@dataclass(frozen=True)
class ClockStatus:
    synchronized: bool | None  # None: this machine cannot tell
    source: str  # how we know: adjtimex, timedatectl
    max_error_ms: float | None  # the kernel's bound on the clock's error
    message: str | None = None
    message_en: str | None = None


def _adjtimex() -> tuple[int, int, int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    return (state, timex.status, timex.maxerror) if state >= 0 else None


def _timedatectl() -> bool | None:
    tool = shutil.which("timedatectl")
    if tool is None:
        return None
    done = subprocess.run([tool, "show", "--property=NTPSynchronized", "--value"], capture_output=True, text=True, check=False, timeout=5)
    value = done.stdout.strip()
    return {"yes": True, "no": False}.get(value) if done.returncode == 0 else None


def clock_status() -> ClockStatus:
    kernel = _adjtimex()
    if kernel is not None:
        state, status, max_error_us = kernel
        synced = state != TIME_ERROR and not status & STA_UNSYNC
        return _status(synced, "adjtimex", max_error_us / 1000)
    return _status(_timedatectl(), "timedatectl", None)


def _status(synced: bool | None, source: str, max_error_ms: float | None) -> ClockStatus:
    if synced:
        return ClockStatus(True, source, max_error_ms)
    if synced is None:
        vi = "Không kiểm tra được đồng hồ hệ thống có được đồng bộ hay không"
        en = "Cannot tell whether the system clock is synchronised"
    else:
        vi = ("Đồng hồ máy chủ chưa được đồng bộ (NTP): thời gian ghi trong biên bản, phiếu biểu quyết và chữ ký có thể sai. "
              "Hãy bật systemd-timesyncd hoặc chrony với máy chủ thời gian của cơ quan.")  # fmt: skip
        en = ("The server's clock is not synchronised (NTP): times in the minutes, votes and signatures may be wrong. "
              "Enable systemd-timesyncd or chrony with the organisation's time server.")  # fmt: skip
    return ClockStatus(synced, source, max_error_ms, vi, en)
