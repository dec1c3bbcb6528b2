"""Stopping what a test started, by process ids (imported by name; ``tests/`` is on
``sys.path``, and benchmarks add it).

A command started with ``start_new_session=True`` leads a session of its own. Ray's
worker processes leave the command's process group (each takes its own), so
``os.killpg`` misses them and they go on writing for seconds after their driver dies;
they stay in its session, which :func:`kill_session` empties.
"""
import os
import signal
import time
from typing import List, Tuple


def session_members(sid: int) -> List[Tuple[int, str]]:
    """``(pid, start time)`` of the live (not zombie) processes of session ``sid``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":   # fields: state, ppid, pgrp, session, ...
            out.append((int(entry), fields[19]))
    return out


def kill_session(sid: int, timeout: float = 60.0) -> int:
    """SIGKILL every process of session ``sid`` until none is left (bounded by
    ``timeout`` seconds); returns how many were killed."""
    killed, deadline = set(), time.monotonic() + timeout
    while True:
        members = session_members(sid)
        if not members:
            return len(killed)
        assert time.monotonic() < deadline, f"session {sid} still has {members} after {timeout:.0f}s"
        for pid, start in members:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add((pid, start))
            except ProcessLookupError:
                pass
        time.sleep(0.05)
