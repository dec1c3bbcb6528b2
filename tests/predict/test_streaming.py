"""The driver's sink and the part files: rows leave the driver as inputs complete
(the rows it holds do not grow with the number of inputs), parts hold whole inputs,
and assembling them gives the same rows in every output format."""
import json
import os

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from distlm.errors import UserError
from distlm.predict.parts import PartStore, assemble, parts_dir
from distlm.predict.schema import part_schema, results_schema
from distlm.predict.sink import PartSink

from predict_helpers import fake_batch, fake_bundle

FRAMES = 3  # rows per input (a video with three sampled frames)


def _batches(bundle, n_inputs, per_batch=2):
    """Rows of ``n_inputs`` videos, two inputs interleaved, cut into small batches: an
    input's rows always span several batches."""
    rows = []
    for a in range(0, n_inputs, 2):
        for f in range(FRAMES):
            for o in (a, a + 1):
                if o < n_inputs:
                    rows.append((o, f"/v/{o}.mp4", f, "no_face" if o % 5 == 4 else "ok", FRAMES))
    return [fake_batch(bundle, rows[i:i + per_batch], seed=i) for i in range(0, len(rows), per_batch)]


def _run_sink(n_inputs, rows_per_part=4):
    bundle = fake_bundle()
    written = []
    sink = PartSink(written.append, part_schema(bundle), rows_per_part)
    for b in _batches(bundle, n_inputs):
        sink.add(b)
    sink.close()
    return sink, written


def test_driver_holds_the_same_few_rows_for_n_and_4n_inputs():
    small, small_parts = _run_sink(10)
    big, big_parts = _run_sink(40)
    assert small.peak_held == big.peak_held  # would be ~4x if rows accumulated
    assert big.peak_held <= 4 + 2 + 2 * FRAMES  # rows_per_part + one batch + two inputs in flight
    assert big.held == 0 and big.inputs_done == 40
    assert sum(t.num_rows for t in big_parts) == 40 * FRAMES
    seen = set()
    for t in big_parts:  # each part: whole inputs, sorted, never an input twice
        counts = {}
        for o in t["order"].to_pylist():
            counts[o] = counts.get(o, 0) + 1
        assert set(counts.values()) == {FRAMES} and not seen & set(counts)
        seen |= set(counts)
        assert t["order"].to_pylist() == sorted(t["order"].to_pylist())
    assert seen == set(range(40))


def test_sink_refuses_to_close_with_an_input_half_received():
    bundle = fake_bundle()
    sink = PartSink(lambda t: None, part_schema(bundle), 1)
    sink.add(fake_batch(bundle, [(0, "/v.mp4", 0, "ok", 2)]))
    with pytest.raises(RuntimeError, match="rows missing"):
        sink.close()


def _fill(output, bundle, fingerprint=None):
    store = PartStore(output, fingerprint or {"checkpoint": "c"})
    sink = PartSink(store.write, part_schema(bundle), 3)
    rows = [(0, "/a.jpg", 0, "ok", 1), (1, "/b.png", 0, "no_face", 1), (2, "/c.jpg", 0, "unreadable", 1),
            (3, "/v.mp4", 0, "ok", 2), (3, "/v.mp4", 10, "ok", 2)]
    for i in range(len(rows)):
        sink.add(fake_batch(bundle, rows[i:i + 1], seed=i))
    sink.close()
    return store


def _read(path):
    if path.endswith(".parquet"):
        return pq.read_table(path).to_pylist()
    if path.endswith(".csv"):
        return pacsv.read_csv(path).to_pylist()
    with open(path) as fh:
        return json.load(fh) if path.endswith(".json") else [json.loads(line) for line in fh]


@pytest.mark.parametrize("ext", [".parquet", ".csv", ".jsonl", ".json"])
def test_assembled_results_and_errors_in_every_format(tmp_path, ext):
    bundle = fake_bundle()
    out = str(tmp_path / f"r{ext}")
    store = _fill(out, bundle)
    assert len(store.parts()) >= 2 and not os.path.exists(out)
    summary = assemble(store, results_schema(bundle))
    rows = _read(out)
    assert [(r["input"], r["frame"]) for r in rows] == [("/a.jpg", 0), ("/v.mp4", 0), ("/v.mp4", 10)]
    assert list(rows[0]) == results_schema(bundle).names
    assert rows[1]["timestamp"] == 0.0 and rows[2]["timestamp"] == 2.0 and rows[0]["x_left_eye"] is None
    errors = pacsv.read_csv(summary["errors"]).to_pylist()
    assert [(e["input"], e["reason"]) for e in errors] == [("/b.png", "no_face"), ("/c.jpg", "corrupt")]
    assert errors[1]["frame"] is None
    assert {k: summary[k] for k in ("inputs", "frames", "faces", "no_face", "unreadable")} == \
        {"inputs": 4, "frames": 4, "faces": 3, "no_face": 1, "unreadable": 1}
    assert not os.path.exists(parts_dir(out))


def test_parts_resume_and_other_settings_are_refused(tmp_path):
    bundle = fake_bundle()
    out = str(tmp_path / "r.parquet")
    _fill(out, bundle)
    leftover = os.path.join(parts_dir(out), ".part-000009.tmp-1-abc.parquet")  # a part killed mid-write
    open(leftover, "w").close()
    again = PartStore(out, {"checkpoint": "c"})
    assert again.done_inputs() == {"/a.jpg", "/b.png", "/c.jpg", "/v.mp4"}
    assert not os.path.exists(leftover)
    with pytest.raises(UserError, match=r"other settings \(checkpoint\).*--restart"):
        PartStore(out, {"checkpoint": "other"})
    assert PartStore(out, {"checkpoint": "other"}, restart=True).done_inputs() == set()
