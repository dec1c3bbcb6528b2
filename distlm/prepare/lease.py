"""One crop stage at a time per cache folder: a lease file with a heartbeat.

Two jobs with the same sources and crop settings share one cache folder (seeds of one
experiment submitted together, say). Their plans would delete each other's pending
parts and in-flight shards, so the second waits for the first, then reuses its crops.

``DST/_lease.json`` is created exclusively (local ``O_EXCL``, S3 ``If-None-Match: *``)
and rewritten by its holder every ``ttl_s / 4`` seconds. A waiter takes it over when its
content has not changed for ``ttl_s`` seconds of the waiter's own clock (no clock
agreement between hosts needed), or at once when its holder is a dead process on this
host (a killed run, resumed here).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from typing import Any, Callable, Dict, Optional

from distlm.prepare.layout import Output

log = logging.getLogger("distlm.prepare")
LEASE_FILE = "_lease.json"
LEASE_TTL_S = 60.0
WAIT_LOG_S = 300.0  # a waiter's progress line


def _alive_here(holder: Dict[str, Any]) -> bool:
    """False if ``holder`` names a process of this host that no longer exists."""
    if holder.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(holder.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return True


def _token(raw: Optional[bytes]) -> Optional[str]:
    try:
        return json.loads(raw).get("token") if raw else None
    except (ValueError, AttributeError):
        return None


class CacheLease:
    """``with CacheLease(out): ...``: hold ``out``'s lease for the block's duration.

    Args:
        out: the cache folder.
        ttl_s: seconds without a heartbeat after which a lease counts as abandoned.
        poll_s: seconds between looks at a held lease.
        on_wait: called with the holder's record when this lease starts waiting (tests, UIs).
    """

    def __init__(self, out: Output, ttl_s: Optional[float] = None, poll_s: float = 1.0,
                 on_wait: Optional[Callable[[Dict[str, Any]], None]] = None) -> None:
        self.out, self.poll_s, self.on_wait = out, poll_s, on_wait
        self.ttl_s = LEASE_TTL_S if ttl_s is None else ttl_s
        self.record = {"token": uuid.uuid4().hex, "host": socket.gethostname(), "pid": os.getpid(),
                       "since": time.time(), "beat": 0}
        self._stop = threading.Event()
        self._beat: Optional[threading.Thread] = None

    def _bytes(self) -> bytes:
        return (json.dumps(self.record, sort_keys=True) + "\n").encode()

    def _holder(self) -> Optional[bytes]:
        try:
            return self.out.read(LEASE_FILE)
        except FileNotFoundError:
            return None

    def _create(self) -> bool:
        """Take the lease if free; True also when the storage cannot create exclusively
        (an S3-compatible store without conditional PUTs): the stage then runs unguarded."""
        try:
            return self.out.create(LEASE_FILE, self._bytes())
        except OSError as err:
            log.warning("prepare: %s cannot be locked (%s); running without the lease: do not start "
                        "a second stage on this folder before this one ends", self.out.uri, err)
            self.record["token"] = None
            return True

    def acquire(self) -> None:
        seen: Optional[bytes] = None
        changed = waited = logged = time.monotonic()
        while not self._create():
            raw = self._holder()
            if raw is None:
                continue  # released between our create and our read
            try:
                holder = json.loads(raw)
            except ValueError:
                holder = {}  # being written this instant
            now = time.monotonic()
            if raw != seen:
                if seen is None:
                    log.warning("prepare: %s is being cropped by %s (pid %s, since %s); waiting for it, "
                                "then its crops are reused", self.out.uri, holder.get("host", "?"),
                                holder.get("pid", "?"), time.strftime("%H:%M:%S", time.localtime(holder.get("since", 0))))
                    if self.on_wait:
                        self.on_wait(holder)
                seen, changed = raw, now
            if now - logged > WAIT_LOG_S:
                log.info("prepare: still waiting for the crop stage on %s (%.0f min)", self.out.uri, (now - waited) / 60)
                logged = now
            abandoned = now - changed > self.ttl_s
            if abandoned or not _alive_here(holder):
                why = f"no heartbeat for {self.ttl_s:.0f} s" if abandoned else "its process is gone"
                if self._holder() == raw:  # still the one we judged
                    log.warning("prepare: taking over the lease of %s on %s (%s)", self.out.uri,
                                holder.get("host", "?"), why)
                    self.out.remove(LEASE_FILE)
                changed = time.monotonic()
                continue
            time.sleep(self.poll_s)
        if self.record["token"] is not None:
            self._beat = threading.Thread(target=self._heartbeat, name="distlm-cache-lease", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.ttl_s / 4):
            try:
                if _token(self._holder()) != self.record["token"]:
                    log.error("prepare: lost the lease of %s to another run (this run stalled > %.0f s)",
                              self.out.uri, self.ttl_s)
                    return
                self.record["beat"] += 1
                self.out.write(LEASE_FILE, self._bytes())
            except OSError as err:  # storage unreachable for a moment: beat again next time
                log.warning("prepare: heartbeat of the lease on %s failed: %s", self.out.uri, err)

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if self.record["token"] is not None and _token(self._holder()) == self.record["token"]:
            self.out.remove(LEASE_FILE)

    def __enter__(self) -> "CacheLease":
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
