"""prepare killed midway (SIGKILL) and rerun equals a clean run; reruns skip; bad reruns refused."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distlm.images import synthetic as syn
from processes import kill_session
from distlm.prepare import prepare, read_manifest, read_shard, read_summary, shard_images, shard_names
from distlm.prepare.layout import MANIFEST_DIR, SUMMARY_FILE, Output
from distlm.prepare.lease import LEASE_FILE
from distlm.prepare.order import by_id_hash
from distlm.prepare.records import parquet_bytes

N_IMAGES = 24
SHARD = 2
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def noise_tree(tmp_path_factory) -> Path:
    """Random-noise JPEGs (slow for the Haar cascade: ~0.1-0.3 s each) in nested folders."""
    root = tmp_path_factory.mktemp("noise")
    rng = np.random.default_rng(7)
    for i in range(N_IMAGES):
        sub = root / f"d{i % 3}" / ("deep" if i % 2 else "")
        sub.mkdir(parents=True, exist_ok=True)
        img = rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)
        (sub / f"img_{i:02d}.jpg").write_bytes(syn.encode(img, "JPEG", quality=80))
    return root


def _crops_by_id(out: Path) -> dict:
    tables = [read_shard(str(out), n) for n in shard_names(str(out))]
    return {i: img for t in tables for i, img in zip(t.column("id").to_pylist(), shard_images(t))}


def _manifest(out) -> list:
    """Manifest rows without the file each block landed in (blocks differ between a
    resumed run and a clean one; what each input became does not)."""
    return [{k: v for k, v in r.items() if k != "shard"} for r in read_manifest(str(out))]


def _source_summary(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in ("cropped", "reused", "shards")}


# A subprocess that prepares an index table read from a Parquet file (options as JSON).
_PREPARE = ("import json, sys, pyarrow.parquet as pq; from distlm.prepare import prepare; "
            "prepare(pq.read_table(sys.argv[1]), sys.argv[2], **json.loads(sys.argv[3]))")


@pytest.mark.slow
def test_killed_midway_then_rerun_equals_clean_run(ray_local, noise_tree, tmp_path):
    """One input is a named pipe nobody writes: the actor that fetches it blocks for good,
    the other actor commits the remaining blocks, so the kill lands midway by construction
    (not by timing)."""
    from distlm.prepare.index import load_index

    index = load_index(str(noise_tree))
    paths = index.column("path").to_pylist()
    stalled = tmp_path / "stalled.jpg"
    os.mkfifo(stalled)
    real_bytes = Path(paths[0]).read_bytes()
    paths[0] = str(stalled)
    index = index.set_column(index.schema.get_field_index("path"), "path", pa.array(paths, pa.string()))
    table_file = tmp_path / "index.parquet"
    pq.write_table(index, table_file)
    common = dict(detector="none", shard_size=SHARD, size=32, actors=2, cpus_per_actor=0.5)
    killed = tmp_path / "killed"
    options = json.dumps(dict(common, address="local", num_cpus=2, log_every_s=1))
    proc = subprocess.Popen([sys.executable, "-c", _PREPARE, str(table_file), str(killed), options],
                            cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        # kill once a block is committed (its manifest part is written after its shard)
        while not list((killed / MANIFEST_DIR).glob("*.parquet")):
            assert proc.poll() is None, "prepare exited before committing a block"
            assert time.monotonic() < deadline, "no committed block within 240 s"
            time.sleep(0.05)
    finally:  # the driver and the Ray processes it started: its session, until empty
        kill_session(proc.pid)
        proc.wait(timeout=30)
    blocks = -(-N_IMAGES // SHARD)
    finished = len(list((killed / MANIFEST_DIR).glob("*.parquet")))
    assert 1 <= finished < blocks, f"{finished}/{blocks} blocks committed before the kill"
    assert not (killed / SUMMARY_FILE).exists()

    stalled.unlink()
    stalled.write_bytes(real_bytes)  # the pipe becomes the image it stood for
    resumed = prepare(index, str(killed), **common)
    clean = prepare(index, str(tmp_path / "clean"), **common)
    assert _source_summary(resumed) == _source_summary(clean) and clean["outcomes"]["ok"] == N_IMAGES
    assert resumed["inputs"] == N_IMAGES and resumed["reused"] >= finished * SHARD > 0
    assert resumed["reused"] + resumed["cropped"] == N_IMAGES
    assert _manifest(killed) == _manifest(tmp_path / "clean")    # every input once, same outcome
    ids = [r["id"] for r in read_manifest(str(killed))]
    assert len(set(ids)) == len(ids) == N_IMAGES
    a, b = _crops_by_id(killed), _crops_by_id(tmp_path / "clean")
    assert a.keys() == b.keys() and all((a[i] == b[i]).all() for i in a)
    assert not [p for p in killed.rglob(".*")]  # temporaries cleaned
    assert not list(killed.glob("_pending/*"))


@pytest.mark.slow
def test_rerun_skips_and_incompatible_rerun_refused(ray_local, noise_tree, tmp_path):
    out = tmp_path / "out"
    first = prepare(str(noise_tree), str(out), detector="none", shard_size=5, size=16)
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    assert first["written"] == N_IMAGES and len(stamps) == 5 and first["cropped"] == N_IMAGES
    # default order "mixed": block k holds the k-th cut of the ids in hash order
    rows = read_manifest(str(out))
    expected = by_id_hash(pa.table({"id": sorted(r["id"] for r in rows)})).column("id").to_pylist()
    blocks = sorted(sorted(r["id"] for r in rows if r["shard"] == s) for s in {r["shard"] for r in rows})
    assert blocks == sorted(sorted(expected[5 * k:5 * k + 5]) for k in range(5))
    again = prepare(str(noise_tree), str(out), detector="none", shard_size=5, size=16)
    assert _source_summary(again) == _source_summary(first) and again["reused"] == N_IMAGES
    assert {p: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")} == stamps
    with pytest.raises(ValueError, match="different crop"):
        prepare(str(noise_tree), str(out), detector="none", shard_size=5, size=24)
    lost = sorted(stamps)[1]
    lost_rows = pq.read_metadata(lost).num_rows  # 5 or 4: which block the name picks varies
    lost.unlink()  # a lost shard: its inputs are cropped again
    redo = prepare(str(noise_tree), str(out), detector="none", shard_size=5, size=16)
    assert _source_summary(redo) == _source_summary(first) and redo["cropped"] == lost_rows
    assert lost.exists()  # the same inputs, the same block name
    redone = prepare(str(noise_tree), str(out), detector="none", shard_size=5, size=24, overwrite=True)
    assert redone["written"] == N_IMAGES and redone["cropped"] == N_IMAGES
    assert shard_images(read_shard(str(out), shard_names(str(out))[0])).shape[1:] == (24, 24, 3)
    assert read_summary(str(out)) == redone
    # an output of an older layout (JSON Lines manifest, version 1 state) is refused, naming it
    old = tmp_path / "old"
    (old / "_manifest").mkdir(parents=True)
    (old / "_prepare.json").write_text(json.dumps({"version": 1, "inputs": 3, "ids_sha256": "x", "options": {}}))
    with pytest.raises(ValueError, match="different .*version"):
        prepare(str(noise_tree), str(old), detector="none", shard_size=5, size=16)


def test_shard_parquet_round_trip_is_bit_exact():
    from distlm.data.image_column import tensor as image_array
    from distlm.data.image_column import to_binary as binary_images

    imgs = np.random.default_rng(1).integers(0, 256, (4, 227, 227, 3), dtype=np.uint8)
    tensor = pa.table({"id": list("abcd"), "image": image_array(imgs),
                       "box": pa.array([[1.5, 2.25, 3.0, 4.0]] * 4, pa.list_(pa.float32()))})
    table = binary_images(tensor)
    assert table.schema.field("image").type == pa.binary(227 * 227 * 3)
    back = pq.read_table(pa.BufferReader(parquet_bytes(table)))
    assert back.equals(table) and back.schema.field("image").metadata == table.schema.field("image").metadata
    np.testing.assert_array_equal(shard_images(back), imgs)
    np.testing.assert_array_equal(shard_images(tensor), imgs)  # older tensor-column shards still read


def test_duplicate_ids_refused(tmp_path):
    index = pa.table({"id": ["a", "b", "a"], "path": ["x", "y", "z"]})
    with pytest.raises(ValueError, match="duplicate ids"):
        prepare(index, str(tmp_path / "o"), detector="none")


def test_cli_needs_input_or_job():
    res = subprocess.run([sys.executable, "-m", "distlm.prepare", "--output", "/tmp/x"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "--input" in res.stderr


@pytest.mark.slow
def test_job_spec_prepares_each_source(ray_local, tmp_path):
    from distlm.prepare.__main__ import main

    for rel in ("lab/happy/0.png", "lab/sad/1.png", "lab/happy/2.png", "pool/a.png", "pool/sub/b.png"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(syn.encode(syn.gradient(40, 48), "PNG"))
    job = tmp_path / "job.yaml"
    job.write_text(
        "name: prep\n"
        f"data:\n  labelled: {{format: folder, path: {tmp_path / 'lab'}}}\n"
        f"  unlabelled: {{format: images, path: {tmp_path / 'pool'}}}\n"
        "  image_size: 32\n  class_names: [happy, sad]\n"
        "selflabel: {enabled: true}\nloss: {aux: lm}\ntelemetry: {metrics_port: 0}\n")
    out = tmp_path / "out"
    assert main([str(job), "--output", str(out), "--detector", "none"]) == 0
    lab = pa.concat_tables([read_shard(str(out / "labelled"), n) for n in shard_names(str(out / "labelled"))])
    assert lab.column("id").to_pylist() == ["happy/0.png", "happy/2.png", "sad/1.png"]
    assert lab.column("label").to_pylist() == [0, 0, 1]
    assert shard_images(lab).shape == (3, 32, 32, 3)
    pool = read_summary(str(out / "unlabelled"))
    assert pool["inputs"] == 2 and pool["written"] == 2


@pytest.fixture()
def moto_s3(tmp_path):
    """A ``moto_server`` on 127.0.0.1 (skipped if moto is not installed)."""
    import socket

    exe = str(Path(sys.executable).with_name("moto_server"))
    if not Path(exe).exists():
        pytest.skip("moto_server not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    storage = {"endpoint_url": f"http://127.0.0.1:{port}", "key": "test", "secret": "test"}
    try:
        from distlm.data.fs import resolve

        deadline = time.monotonic() + 30
        while True:
            try:
                fs, _ = resolve("s3://bkt", storage)
                fs.mkdir("bkt")
                break
            except OSError as err:
                assert time.monotonic() < deadline, f"moto_server did not start: {err}"
                time.sleep(0.3)
        yield storage
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_s3_input_and_output(ray_local, moto_s3, tmp_path):
    from distlm.data.fs import resolve

    fs, _ = resolve("s3://bkt", moto_s3)
    files = {f"sub/{i}.png": syn.encode(syn.gradient(30 + i, 40), "PNG") for i in range(3)}
    files["bad.jpg"] = b""
    for rel, data in files.items():
        fs.pipe_file(f"bkt/in/{rel}", data)
        (tmp_path / "in" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "in" / rel).write_bytes(data)
    summary = prepare("s3://bkt/in", "s3://bkt/out", detector="none", size=16, shard_size=2, storage=moto_s3)
    assert summary["inputs"] == 4 and summary["written"] == 3
    assert summary["outcomes"]["unreadable"] == 1
    rows = read_manifest("s3://bkt/out", moto_s3)
    assert sorted(r["id"] for r in rows) == ["bad.jpg", "sub/0.png", "sub/1.png", "sub/2.png"]
    bad = next(r for r in rows if r["id"] == "bad.jpg")
    assert bad["path"] == "s3://bkt/in/bad.jpg" and bad["reason"] == "empty"
    names = shard_names("s3://bkt/out", moto_s3)
    crops = [shard_images(read_shard("s3://bkt/out", n, moto_s3)) for n in names]
    assert sorted(len(c) for c in crops) == [1, 2] and crops[0].shape[1:] == (16, 16, 3)
    again = prepare("s3://bkt/in", "s3://bkt/out", detector="none", size=16, shard_size=2, storage=moto_s3)
    assert _source_summary(again) == _source_summary(summary) and again["reused"] == 4
    out = Output("s3://bkt/out", moto_s3)
    assert not out.exists(LEASE_FILE)  # released; and taken with a conditional PUT:
    assert out.create("probe.json", b"1") and not out.create("probe.json", b"2") and out.read("probe.json") == b"1"
    # the same files from a local folder give the same crops (ids, labels, pixels)
    local = prepare(str(tmp_path / "in"), str(tmp_path / "out"), detector="none", size=16, shard_size=2)
    assert local["outcomes"] == summary["outcomes"]
    remote = pa.concat_tables([read_shard("s3://bkt/out", n, moto_s3) for n in names]).sort_by("id")
    here = pa.concat_tables([read_shard(str(tmp_path / "out"), n) for n in shard_names(str(tmp_path / "out"))]).sort_by("id")
    assert remote.column("id").to_pylist() == here.column("id").to_pylist()
    assert remote.column("label").to_pylist() == here.column("label").to_pylist()
    assert (shard_images(remote) == shard_images(here)).all()
    assert remote.column("file_version").null_count == 0   # the objects' ETags key them
