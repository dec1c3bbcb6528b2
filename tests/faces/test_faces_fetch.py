"""in_order: files read several at a time, results in input order, failures per item."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from distlm.faces.fetch import in_order
from distlm.images import DecodeError


def test_order_kept_errors_per_item_and_window_bounded():
    running, peak, lock = [0], [0], threading.Lock()

    def read(i):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.002 * ((7 * i) % 5))  # finish out of order
        with lock:
            running[0] -= 1
        if i % 4 == 3:
            raise DecodeError("unreadable_file", f"f{i}", "gone")
        return i * 10

    with ThreadPoolExecutor(8) as pool:
        out = list(in_order(read, range(20), pool, window=3))
    assert [o if isinstance(o, int) else o.reason for o in out] == [
        "unreadable_file" if i % 4 == 3 else i * 10 for i in range(20)]
    assert peak[0] <= 3


def test_other_errors_propagate_and_window_checked():
    def boom(i):
        raise KeyError(i)

    with ThreadPoolExecutor(2) as pool:
        with pytest.raises(KeyError):
            list(in_order(boom, range(3), pool, window=2))
        with pytest.raises(ValueError, match="window"):
            list(in_order(boom, range(3), pool, window=0))
