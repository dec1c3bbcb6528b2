"""Every awkward input is accounted for in the manifest; crops are the astronaut's face."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from distlm.faces import crop_face
from distlm.images import decode_image
from distlm.images import synthetic as syn
from distlm.prepare import prepare, read_manifest, read_shard, read_summary, shard_images, shard_names

skdata = pytest.importorskip("skimage.data")
pytestmark = pytest.mark.slow  # MTCNN in a Ray actor: ~30-80 s on 2 busy cores
ASTRONAUT_BOX = np.array([182, 64, 83, 107], np.float32)


def iou(a, b) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return float(iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih))


def _cases():
    """``{relative path: (bytes, expected outcome, expected reason)}``."""
    astro = skdata.astronaut()
    alpha = np.zeros(astro.shape[:2], np.uint8)
    alpha[32:480, 32:480] = 255
    return {
        "astronaut.jpg": (syn.encode(astro, "JPEG", quality=95), "ok", None),
        "bad/zero.jpg": (b"", "unreadable", "empty"),
        "bad/deeper/text.jpg": (b"I am text, not a JPEG\n" * 20, "unreadable", "not_an_image"),
        "bad/truncated.jpg": (syn.truncated_jpeg(astro, 0.5), "unreadable", "truncated"),
        "kinds/cmyk.jpg": (syn.cmyk_jpeg(astro), "ok", None),
        "kinds/deep16.png": (syn.png16(astro), "ok", None),
        "kinds/alpha.png": (syn.png_alpha(astro, alpha), "ok", None),
        "kinds/gray.jpg": (syn.grayscale_jpeg(astro), "ok", None),
        "kinds/huge6000.jpg": (syn.encode(cv2.resize(astro, (6000, 6000)), "JPEG", quality=70), "ok", None),
        "none/gradient.png": (syn.encode(syn.gradient(), "PNG"), "no_face", None),
        "many/five.jpg": (syn.encode(syn.tile(astro[30:210, 140:310], 5), "JPEG", quality=95), "multiple_faces", None),
        "ünïcødé/visage_é 顔.jpg": (syn.encode(astro, "JPEG", quality=90), "ok", None),
    }


@pytest.fixture(scope="module")
def prepared(ray_local, tmp_path_factory):
    src = tmp_path_factory.mktemp("faces_in")
    cases = _cases()
    for rel, (blob, _, _) in cases.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(blob)
    out = tmp_path_factory.mktemp("faces_out")
    summary = prepare(str(src), str(out), detector="mtcnn", shard_size=4, actors=1, cpus_per_actor=1,
                      metrics_port=-1)
    return src, out, cases, summary


def test_manifest_accounts_for_every_input(prepared):
    src, out, cases, summary = prepared
    rows = {r["id"]: r for r in read_manifest(str(out))}
    assert set(rows) == set(cases)
    for rel, (_, outcome, reason) in cases.items():
        assert rows[rel]["outcome"] == outcome, (rel, rows[rel])
        assert rows[rel]["reason"] == reason, (rel, rows[rel])
        assert rows[rel]["path"] == str(src / rel)
    many = rows["many/five.jpg"]
    assert many["faces"] == 5 and 0 <= many["kept"] < 5
    assert summary["inputs"] == len(cases)
    assert summary["outcomes"]["unreadable"] == 3 and summary["outcomes"]["no_face"] == 1
    assert summary["reasons"] == {"empty": 1, "not_an_image": 1, "truncated": 1, "no_face": 1}
    assert read_summary(str(out)) == summary


def test_shards_hold_exactly_the_crops(prepared):
    _, out, cases, summary = prepared
    tables = [read_shard(str(out), n) for n in shard_names(str(out))]
    ids = [i for t in tables for i in t.column("id").to_pylist()]
    expected = sorted(rel for rel, (_, o, _) in cases.items() if o in ("ok", "multiple_faces"))
    assert sorted(ids) == expected and len(set(ids)) == len(ids) == summary["written"]
    for t in tables:
        assert t.column("id").to_pylist() == sorted(t.column("id").to_pylist())
        assert t.column("label").to_pylist() == [-1] * t.num_rows
        assert set(t.column("domain").to_pylist()) <= {"unlabelled"}
        assert shard_images(t).shape[1:] == (227, 227, 3)


def test_crops_are_stored_raw_and_metadata_compressed(prepared):
    """Training reads crops 5x faster uncompressed (docs/benchmarks.md)."""
    import pyarrow.parquet as pq

    _, out, _, _ = prepared
    name = shard_names(str(out))[0]
    meta = pq.ParquetFile(os.path.join(str(out), name)).metadata.row_group(0)
    codecs = {meta.column(i).path_in_schema: meta.column(i).compression for i in range(meta.num_columns)}
    assert codecs.pop("image") == "UNCOMPRESSED"
    assert codecs and set(codecs.values()) == {"ZSTD"}


def test_astronaut_crop_is_the_face_bit_exact(prepared):
    src, out, _, _ = prepared
    rows = {}
    for n in shard_names(str(out)):
        t = read_shard(str(out), n)
        imgs = shard_images(t)
        for i, rid in enumerate(t.column("id").to_pylist()):
            rows[rid] = (imgs[i], np.asarray(t.column("box")[i].as_py(), np.float32), t.column("faces")[i].as_py())
    crop, box, faces = rows["astronaut.jpg"]
    assert faces == 1 and iou(box, ASTRONAUT_BOX) > 0.8
    rgb = decode_image((src / "astronaut.jpg").read_bytes())
    np.testing.assert_array_equal(crop, crop_face(rgb, box, size=227, margin=0.1))
    huge_box = rows["kinds/huge6000.jpg"][1]
    assert iou(huge_box, ASTRONAUT_BOX * (6000 / 512)) > 0.7
    for rel in ("kinds/cmyk.jpg", "kinds/deep16.png", "kinds/alpha.png", "kinds/gray.jpg", "ünïcødé/visage_é 顔.jpg"):
        assert iou(rows[rel][1], ASTRONAUT_BOX) > 0.7, rel
