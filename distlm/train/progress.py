"""The trainer's progress: a log line every ``train.log_every`` steps (step/total,
epoch, loss terms, images/s, ETA) from rank 0, and ``progress.json`` beside the
checkpoints, which the driver draws as a live bar when it runs on a terminal
(:func:`watch`).

Nothing here reads the device: rank 0 formats values the step metrics already brought
to the host at their window read.
"""
from __future__ import annotations

import json
import logging
import shutil
import threading
from typing import Any, Dict, Mapping, Optional

from distlm.telemetry.progress import Progress, bar
from distlm.train.epochs import TERMS

PROGRESS_FILE = "progress.json"
log = logging.getLogger("distlm.train")


class TrainProgress:
    """Rank 0's progress of one run (``total_steps`` of all epochs, from ``start_step``)."""

    def __init__(self, spec, total_steps: int, start_step: int, write: bool = True) -> None:
        self.spec, self.write = spec, write
        self.progress = Progress("train", total_steps, "steps", start_done=start_step, live=False)

    def window(self, step: int, epoch: int, last: Mapping[str, float], images: int, seconds: float,
               log_line: bool) -> None:
        """After a window read: update, log a line when ``log_line``, write ``progress.json``."""
        fields: Dict[str, Any] = {"epoch": f"{epoch + 1}/{self.spec.train.epochs}"}
        fields.update({k: float(last[k]) for k in TERMS if k in last})
        if seconds > 0:
            fields["images/s"] = f"{images / seconds:,.0f}"
        self.progress.update(step, **fields)
        line = self.progress.line()  # once: the log and progress.json say the same
        if log_line:
            log.info("%s", line)
        if self.write:
            self._write(step, epoch, fields, line)

    def _write(self, step: int, epoch: int, fields: Mapping[str, Any], line: str) -> None:
        from distlm.data.fs import write_text
        from distlm.train.run_folder import run_file, run_storage

        doc = {"step": step, "total": self.progress.total, "epoch": epoch, "fields": dict(fields),
               "eta_s": self.progress.eta(), "line": line}
        try:
            write_text(run_file(self.spec, PROGRESS_FILE), json.dumps(doc), run_storage(self.spec))
        except OSError as err:  # progress is a convenience: never stop training for it
            log.debug("progress.json not written: %s", err)


def read_progress(spec) -> Optional[Dict[str, Any]]:
    """The last ``progress.json`` of ``spec``'s run (``None`` when there is none yet)."""
    from distlm.data.fs import exists, read_text
    from distlm.train.run_folder import run_file, run_storage

    path = run_file(spec, PROGRESS_FILE)
    try:
        return json.loads(read_text(path, run_storage(spec))) if exists(path, run_storage(spec)) else None
    except (OSError, ValueError):
        return None  # being replaced, or not written yet


def watch(spec, stop: threading.Event, stream=None, every_s: float = 1.0,
          lines_every_s: Optional[float] = None) -> Optional[threading.Thread]:
    """A thread following the run's ``progress.json`` until ``stop`` is set: a live bar
    on a terminal, else (with ``lines_every_s``) a line every ``lines_every_s`` seconds."""
    import sys
    import time

    stream = stream or sys.stderr
    live = bool(hasattr(stream, "isatty") and stream.isatty())
    if not live and lines_every_s is None:
        return None

    def loop() -> None:
        last_line, drawn, seen = time.monotonic(), False, None
        while not stop.wait(every_s):
            doc = read_progress(spec)
            if not doc or doc.get("line") == seen:
                continue
            seen = doc["line"]  # rank 0's own line: its rate and ETA, measured where the steps run
            if live:
                cols = shutil.get_terminal_size((100, 20)).columns
                stream.write("\r" + (bar(int(doc["step"]), doc["total"]) + seen)[: max(cols - 1, 10)].ljust(cols - 1))
                stream.flush()
                drawn = True
            elif time.monotonic() - last_line >= lines_every_s:
                last_line = time.monotonic()
                print(f"  {seen}", file=stream, flush=True)
        if drawn:
            stream.write("\n")
            stream.flush()

    thread = threading.Thread(target=loop, name="distlm-progress", daemon=True)
    thread.start()
    return thread
