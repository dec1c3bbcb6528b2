"""A run's part files: what is done survives a kill; the results appear at the end.

Beside ``results.parquet`` a run keeps the hidden folder ``.results.parquet.parts/``:
``run.json`` (what the rows depend on: checkpoint, detector, frame step, threshold,
columns) and ``part-000001.parquet``… Each part holds *whole inputs* (every row of
each of its inputs: faces, ``no_face`` frames, an ``unreadable`` note) and is
committed atomically, so the inputs in the parts are exactly the inputs done. A rerun
with the same output skips them; :func:`assemble` then streams the parts, one at a
time, into the errors file and the results file (committed in that order, each
atomically) and removes the folder. A run that stopped early leaves no results file.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
from collections import Counter
from typing import Any, Dict, Iterator, Mapping, Set

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from distlm.data.fs import atomic_local
from distlm.errors import UserError
from distlm.predict.results import errors_path
from distlm.predict.schema import errors_schema
from distlm.predict.writers import format_of, open_writer

OK, NO_FACE, UNREADABLE = "ok", "no_face", "unreadable"


def parts_dir(output: str) -> str:
    """``out/results.parquet`` → ``out/.results.parquet.parts``."""
    head, tail = os.path.split(os.path.abspath(output))
    return os.path.join(head, f".{tail}.parts")


class PartStore:
    """The part folder of ``output``.

    Args:
        output: the results file the parts are for.
        fingerprint: JSON-able settings the rows depend on; parts written under other
            settings are refused (:class:`UserError`) unless ``restart``.
        restart: remove earlier parts and start over.
    """

    def __init__(self, output: str, fingerprint: Mapping[str, Any], restart: bool = False) -> None:
        self.output, self.dir = os.path.abspath(output), parts_dir(output)
        if restart and os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir, exist_ok=True)
        for tmp in glob.glob(os.path.join(self.dir, ".*.tmp-*")):  # a part killed mid-write
            os.remove(tmp)
        run, fingerprint = os.path.join(self.dir, "run.json"), json.loads(json.dumps(dict(fingerprint)))
        if os.path.exists(run):
            with open(run) as fh:
                saved = json.load(fh)
            if saved != fingerprint:
                diff = sorted(k for k in set(saved) | set(fingerprint) if saved.get(k) != fingerprint.get(k))
                raise UserError(f"{output}: an unfinished run with other settings ({', '.join(diff)}) left "
                                f"{self.dir}; rerun it as it was, or pass --restart to start over")
        else:
            with atomic_local(run) as tmp, open(tmp, "w") as fh:
                json.dump(fingerprint, fh, indent=1)

    def parts(self) -> list:
        return sorted(glob.glob(os.path.join(self.dir, "part-*.parquet")))

    def done_inputs(self) -> Set[str]:
        """Inputs whose rows are all in committed parts."""
        done: Set[str] = set()
        for path in self.parts():
            done.update(pc.unique(pq.read_table(path, columns=["input"])["input"]).to_pylist())
        return done

    def write(self, table: pa.Table) -> str:
        """Commit ``table`` (whole inputs) as the next part."""
        last = self.parts()
        seq = int(os.path.basename(last[-1])[5:11]) + 1 if last else 1
        path = os.path.join(self.dir, f"part-{seq:06d}.parquet")
        with atomic_local(path) as tmp:
            pq.write_table(table, tmp)
        return path

    def tables(self) -> Iterator[pa.Table]:
        for path in self.parts():
            yield pq.read_table(path)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def count(table: pa.Table) -> Counter:
    """``inputs, frames, faces, no_face, unreadable`` of one part (whole inputs)."""
    outcome = table["outcome"]
    read = table.filter(pc.not_equal(outcome, UNREADABLE))
    return Counter({"inputs": len(pc.unique(table["input"])),
                    "frames": read.group_by(["input", "frame"]).aggregate([]).num_rows,
                    "faces": pc.sum(pc.equal(outcome, OK)).as_py() or 0,
                    "no_face": pc.sum(pc.equal(outcome, NO_FACE)).as_py() or 0,
                    "unreadable": pc.sum(pc.equal(outcome, UNREADABLE)).as_py() or 0})


def assemble(store: PartStore, schema: pa.Schema) -> Dict[str, Any]:
    """Stream the parts into ``<output>.errors.csv`` and the results file (by its
    extension, columns ``schema``), commit both (errors first), remove the parts.

    Returns:
        ``{"out", "errors"}`` paths and the :func:`count` totals.
    """
    out, err = store.output, errors_path(store.output)
    fmt, totals = format_of(out), Counter()
    with atomic_local(out) as out_tmp:
        with atomic_local(err) as err_tmp:
            with open_writer(out_tmp, schema, fmt) as rows, open_writer(err_tmp, errors_schema(), ".csv") as errs:
                for table in store.tables():
                    ok = pc.equal(table["outcome"], OK)
                    rows.write(table.filter(ok))
                    errs.write(table.filter(pc.invert(ok)))
                    totals += count(table)
    store.remove()
    return {"out": out, "errors": err, **{k: totals[k] for k in ("inputs", "frames", "faces", "no_face", "unreadable")}}
