"""One crop stage at a time per cache folder: a second waits, then reuses; a lease left
by a killed run is taken over."""
from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

from distlm.images import synthetic as syn
from polling import wait_for
from distlm.prepare.layout import MANIFEST_DIR, PENDING_DIR, Output
from distlm.prepare.lease import LEASE_FILE, CacheLease


@pytest.mark.slow
def test_a_second_stage_waits_for_the_first_then_reuses_its_crops(ray_local, tmp_path, caplog):
    from distlm.prepare import prepare

    rng = np.random.default_rng(5)
    for i in range(6):
        (tmp_path / "src").mkdir(exist_ok=True)
        (tmp_path / "src" / f"{i}.png").write_bytes(syn.encode(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8), "PNG"))
    dst = tmp_path / "cache"
    first = prepare(str(tmp_path / "src"), str(dst), detector="none", size=8, shard_size=4)
    assert first["cropped"] == 6 and not (dst / LEASE_FILE).exists()  # released when done
    (tmp_path / "src" / "6.png").write_bytes(syn.encode(syn.gradient(20, 24), "PNG"))

    held = CacheLease(Output(str(dst)))  # another stage at work on the cache
    held.acquire()
    result = {}
    worker = threading.Thread(target=lambda: result.update(
        prepare(str(tmp_path / "src"), str(dst), detector="none", size=8, shard_size=4)))
    try:
        with caplog.at_level(logging.WARNING, logger="distlm.prepare"):
            worker.start()
            wait_for(lambda: any("is being cropped by" in r.getMessage() for r in caplog.records),
                     120, "the second stage to wait", every=0.05)
            assert not list((dst / PENDING_DIR).glob("*.parquet"))  # it planned nothing yet
            assert len(list((dst / MANIFEST_DIR).glob("*.parquet"))) == 2
    finally:
        held.release()
        worker.join(timeout=300)
    assert not worker.is_alive() and result["cropped"] == 1 and result["reused"] == 6
    assert not (dst / LEASE_FILE).exists()


def test_a_lease_left_by_a_dead_process_here_is_taken_over_at_once(tmp_path):
    out = Output(str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / LEASE_FILE).write_text(json.dumps({"token": "old", "host": socket.gethostname(), "pid": dead.pid}))
    lease = CacheLease(out, ttl_s=10 ** 6)  # only the dead holder can let it through
    taker = threading.Thread(target=lease.acquire, daemon=True)
    taker.start()
    taker.join(timeout=60)  # a live-looking holder would keep it waiting: fail, not hang
    assert not taker.is_alive(), "the lease of a dead process was not taken over"
    assert json.loads((tmp_path / LEASE_FILE).read_text())["token"] == lease.record["token"]
    lease.release()
    assert not (tmp_path / LEASE_FILE).exists()


def test_a_silent_lease_of_another_host_is_taken_over_after_its_ttl(tmp_path):
    out = Output(str(tmp_path))
    (tmp_path / LEASE_FILE).write_text(json.dumps({"token": "old", "host": "elsewhere", "pid": 1}))
    waits = []
    with CacheLease(out, ttl_s=0.3, poll_s=0.05, on_wait=waits.append) as lease:
        assert json.loads((tmp_path / LEASE_FILE).read_text())["token"] == lease.record["token"]
    assert waits == [{"token": "old", "host": "elsewhere", "pid": 1}]


def test_a_held_lease_is_not_released_by_another_and_beats(tmp_path):
    out = Output(str(tmp_path))
    with CacheLease(out, ttl_s=0.2) as lease:
        other = CacheLease(out)
        other.release()  # not its lease: nothing removed
        assert (tmp_path / LEASE_FILE).exists()
        wait_for(lambda: json.loads((tmp_path / LEASE_FILE).read_text())["beat"] >= 2, 60, "two heartbeats", every=0.05)
        assert json.loads((tmp_path / LEASE_FILE).read_text())["token"] == lease.record["token"]
    assert not (tmp_path / LEASE_FILE).exists()


def test_exclusive_create_writes_once(tmp_path):
    out = Output(str(tmp_path))
    assert out.create("x.json", b"1") and not out.create("x.json", b"2")
    assert (tmp_path / "x.json").read_bytes() == b"1"


def test_storage_without_exclusive_create_runs_unguarded(tmp_path, caplog):
    class NoConditionalPut(Output):
        def create(self, name, data):
            raise OSError("501 Not Implemented: If-None-Match")

    out = NoConditionalPut(str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="distlm.prepare"):
        with CacheLease(out):
            pass
    assert any("cannot be locked" in r.getMessage() for r in caplog.records)
    assert not (tmp_path / LEASE_FILE).exists()
