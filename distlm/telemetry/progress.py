"""Progress of long work: done/total, failures, rate and ETA, as a log line every so
often and a live bar on a terminal.

One formatter for every long command (train, prepare, predict, the demo)::

    p = Progress("prepare", total=1_000_000, unit="images")
    p.update(done=250_000, failures=312)          # live bar when stderr is a terminal
    p.line()  # 'prepare: 250,000/1,000,000 images (25.0%), 312 failed, 812 images/s, ETA 15m23s'

The rate is measured since the object was made (work done before it, e.g. by an
earlier run that is being resumed, counts toward ``done`` but not toward the rate);
the ETA is ``(total - done) / rate``. ``clock`` is injectable so tests need no sleeps.
"""
from __future__ import annotations

import math
import shutil
import sys
import time
from typing import Callable, Dict, Optional, TextIO


def format_duration(seconds: Optional[float]) -> str:
    """``3725 -> '1h02m'``, ``185 -> '3m05s'``, ``9.4 -> '9s'``; unknown → ``'?'``."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def format_rate(rate: Optional[float], unit: str) -> str:
    if rate is None:
        return f"? {unit}/s"
    return f"{rate:,.0f} {unit}/s" if rate >= 100 else f"{rate:.3g} {unit}/s"


class Progress:
    """Counts ``done`` of ``total`` ``unit`` s; :meth:`line` formats, :meth:`update` draws.

    Args:
        name: the prefix of every line (``train``, ``prepare``, ...).
        total: units of the whole job (``None``: unknown, no percentage or ETA).
        unit: what is counted (``steps``, ``images``, ``inputs``).
        start_done: units already done when this object is made (a resumed run).
        stream: where the live bar goes (default stderr); drawn only on a terminal.
        clock: seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, name: str, total: Optional[int], unit: str, start_done: int = 0,
                 stream: Optional[TextIO] = None, clock: Callable[[], float] = time.monotonic,
                 live: Optional[bool] = None) -> None:
        self.name, self.total, self.unit = name, total, unit
        self.done = self.start_done = int(start_done)
        self.failures: Optional[int] = None
        self.fields: Dict[str, str] = {}
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.started = clock()
        self.live = _is_tty(self.stream) if live is None else live
        self._drawn = False

    def rate(self) -> Optional[float]:
        """Units per second since this object was made (``None`` before any)."""
        elapsed = self.clock() - self.started
        new = self.done - self.start_done
        return new / elapsed if elapsed > 0 and new > 0 else None

    def eta(self) -> Optional[float]:
        """Seconds left at the current rate (``None``: unknown)."""
        rate = self.rate()
        if self.total is None or rate is None:
            return None
        return max(self.total - self.done, 0) / rate

    def update(self, done: int, failures: Optional[int] = None, **fields: object) -> None:
        """Record progress (``fields`` are shown as ``key=value`` after the counts)."""
        self.done = int(done)
        if failures is not None:
            self.failures = int(failures)
        self.fields.update({k: _fmt(v) for k, v in fields.items()})
        if self.live:
            self._draw()

    def line(self) -> str:
        """``name: done/total unit (pct), N failed, k=v ..., rate, ETA t``."""
        if self.total:
            head = f"{self.name}: {self.done:,}/{self.total:,} {self.unit} ({100.0 * self.done / self.total:.1f}%)"
        else:
            head = f"{self.name}: {self.done:,} {self.unit}"
        parts = [head]
        if self.failures is not None:
            parts.append(f"{self.failures:,} failed")
        parts += [f"{k}={v}" for k, v in self.fields.items()]
        parts.append(format_rate(self.rate(), self.unit))
        if self.total:
            parts.append(f"ETA {format_duration(self.eta())}")
        return ", ".join(parts[:1]) + (", " + ", ".join(parts[1:]) if parts[1:] else "")

    def bar(self, width: int = 24) -> str:
        """``[#########...............]`` for the share done (empty when the total is unknown)."""
        return bar(self.done, self.total, width)

    def _draw(self) -> None:
        cols = shutil.get_terminal_size((100, 20)).columns
        text = (self.bar() + self.line())[: max(cols - 1, 10)]
        self.stream.write("\r" + text.ljust(cols - 1))
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the live bar's line (the next output starts on a fresh line)."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def bar(done: int, total: Optional[int], width: int = 24) -> str:
    """``[#########...............] `` for ``done`` of ``total`` (empty when the total is unknown)."""
    if not total:
        return ""
    full = min(width, int(width * done / total))
    return "[" + "#" * full + "." * (width - full) + "] "


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _is_tty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
