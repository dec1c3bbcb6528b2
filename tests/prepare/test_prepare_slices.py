"""Pure pieces of prepare: slicing, fingerprints, options, manifest lines."""
from __future__ import annotations

import pyarrow as pa
import pytest

from distlm.prepare.options import PrepareOptions
from distlm.prepare.order import ORDERS
from distlm.prepare.records import manifest_jsonl, parse_manifest, slice_counts
from distlm.prepare.slices import ids_fingerprint, slice_bounds, slice_table, sort_index


def test_slice_bounds_cover_once():
    for rows, size in [(0, 3), (1, 3), (7, 3), (9, 3), (10, 1)]:
        bounds = slice_bounds(rows, size)
        covered = [i for s, e in bounds for i in range(s, e)]
        assert covered == list(range(rows))
        assert all(e - s == size for s, e in bounds[:-1])


def test_sort_index_sorts_and_refuses_bad_ids():
    t = sort_index(pa.table({"id": ["b", "a", "c"], "x": [1, 0, 2]}))
    assert t.column("id").to_pylist() == ["a", "b", "c"] and t.column("x").to_pylist() == [0, 1, 2]
    with pytest.raises(ValueError, match="null id"):
        sort_index(pa.table({"id": ["a", None]}))
    with pytest.raises(ValueError, match="no 'id'"):
        sort_index(pa.table({"path": ["a"]}), "src")


def test_fingerprint_depends_on_ids_only_and_order():
    a = pa.table({"id": ["x", "y"], "p": [1, 2]})
    assert ids_fingerprint(a) == ids_fingerprint(pa.table({"id": ["x", "y"], "p": [5, 6]}))
    assert ids_fingerprint(a) != ids_fingerprint(pa.table({"id": ["x", "z"]}))


def test_slice_table_tags_rows():
    t = slice_table(pa.table({"id": list("abcde")}), 1, (2, 4))
    assert t.column("id").to_pylist() == ["c", "d"] and t.column("slice").to_pylist() == [1, 1]


def test_options_from_flat_keywords():
    o = PrepareOptions.from_kwargs(detector="haar", size=64, actors=2, shard_size=10)
    assert o.crop.detector == "haar" and o.crop.size == 64 and o.actors == 2
    with pytest.raises(TypeError, match="unknown prepare option"):
        PrepareOptions.from_kwargs(detectr="haar")
    with pytest.raises(KeyError, match="mtcnn"):
        PrepareOptions.from_kwargs(detector="nope")
    with pytest.raises(ValueError):
        PrepareOptions(shard_size=0)


def test_manifest_lines_round_trip_non_ascii():
    rows = [{"id": "顔/é.jpg", "outcome": "ok", "reason": None, "faces": 2},
            {"id": "b.jpg", "outcome": "unreadable", "reason": "truncated", "faces": 0},
            {"id": "c.jpg", "outcome": "no_face", "reason": None, "faces": 0}]
    data = manifest_jsonl(rows)
    assert "顔".encode() in data
    assert parse_manifest(data) == rows
    counts = slice_counts(rows)
    assert counts["outcomes"] == {"ok": 1, "unreadable": 1, "no_face": 1}
    assert counts["reasons"] == {"truncated": 1, "no_face": 1} and counts["faces_found"] == 2
    with pytest.raises(ValueError, match="m.jsonl:1"):
        parse_manifest(b"{not json\n", "m.jsonl")


def test_mixed_order_spreads_classes_over_slices_deterministically():
    # a folder source sorted by id is class by class: 10 classes x 50 images
    ids = [f"class{c}/img_{i:03d}.jpg" for c in range(10) for i in range(50)]
    index = sort_index(pa.table({"id": ids[::-1], "label": [int(i[5]) for i in ids[::-1]]}))
    bounds = slice_bounds(index.num_rows, 50)

    def classes_per_slice(order):
        table = ORDERS.get(order)(index)
        return [len(set(table.column("label").to_pylist()[s:e])) for s, e in bounds], table

    by_id, _ = classes_per_slice("id")
    assert by_id == [1] * 10  # one class per shard
    mixed, table = classes_per_slice("mixed")
    assert min(mixed) >= 7  # every shard a sample of the whole set
    assert sorted(table.column("id").to_pylist()) == sorted(ids)  # a permutation
    assert table.column("label").to_pylist() == [int(i[5]) for i in table.column("id").to_pylist()]
    _, again = classes_per_slice("mixed")
    assert again.equals(table)  # no seed, no state: the same on every run


def test_order_option_is_checked_and_recorded():
    assert PrepareOptions().order == "mixed"
    assert PrepareOptions(order="id").fingerprint()["order"] == "id"
    with pytest.raises(KeyError, match="unknown prepare order 'shuffled'; known: id, mixed"):
        PrepareOptions(order="shuffled")
