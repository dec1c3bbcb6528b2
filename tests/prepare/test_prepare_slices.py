"""Pure pieces of prepare: slicing, input keys, options, manifest parts."""
from __future__ import annotations

import pyarrow as pa
import pytest

from distlm.prepare.options import PrepareOptions
from distlm.prepare.order import ORDERS
from distlm.prepare.keys import file_stats, input_keys
from distlm.prepare.records import MANIFEST_SCHEMA, manifest_counts, manifest_table
from distlm.prepare.slices import slice_bounds, sort_index
from distlm.prepare.writer import block_digest


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


def test_a_key_changes_with_its_row_its_file_and_the_settings_only(tmp_path):
    for name, data in (("a.jpg", b"1"), ("b.jpg", b"22")):
        (tmp_path / name).write_bytes(data)
    index = pa.table({"id": ["a.jpg", "b.jpg", "gone.jpg"], "label": [0, 1, 1],
                      "path": [str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"), str(tmp_path / "gone.jpg")]})
    stats = file_stats(index)
    assert stats.column("file_size").to_pylist() == [1, 2, None]   # a vanished file: nulls, not an error
    keys = input_keys(stats, {"size": 32}).to_pylist()
    assert len(set(keys)) == 3 and input_keys(stats, {"size": 32}).to_pylist() == keys
    assert input_keys(stats, {"size": 64}).to_pylist()[0] != keys[0]          # another crop setting
    relabelled = stats.set_column(1, "label", pa.array([5, 1, 1]))
    assert input_keys(relabelled, {"size": 32}).to_pylist()[1:] == keys[1:]   # only the changed row
    assert input_keys(relabelled, {"size": 32}).to_pylist()[0] != keys[0]
    (tmp_path / "b.jpg").write_bytes(b"333")                                 # a rewritten image
    again = input_keys(file_stats(index), {"size": 32}).to_pylist()
    assert again[0] == keys[0] and again[1] != keys[1]


def test_block_names_depend_on_the_set_of_keys_only():
    assert block_digest(pa.array(["k2", "k1"])) == block_digest(pa.array(["k1", "k2"]))
    assert block_digest(pa.array(["k1"])) != block_digest(pa.array(["k1", "k2"]))


def test_options_from_flat_keywords():
    o = PrepareOptions.from_kwargs(detector="haar", size=64, actors=2, shard_size=10)
    assert o.crop.detector == "haar" and o.crop.size == 64 and o.actors == 2
    with pytest.raises(TypeError, match="unknown prepare option"):
        PrepareOptions.from_kwargs(detectr="haar")
    with pytest.raises(KeyError, match="mtcnn"):
        PrepareOptions.from_kwargs(detector="nope")
    with pytest.raises(ValueError):
        PrepareOptions(shard_size=0)


def test_manifest_part_lists_every_input_with_its_outcome():
    processed = pa.table({
        "key": ["k3", "k1", "k2"], "id": ["顔/é.jpg", "b.jpg", "c.jpg"], "path": ["p3", "p1", "p2"],
        "outcome": ["ok", "unreadable", "no_face"], "reason": [None, "truncated", None],
        "detail": [None, "b.jpg: truncated", None], "faces": pa.array([2, 0, 0], pa.int32()),
        "kept": pa.array([1, -1, -1], pa.int32()), "det_score": pa.array([0.9, 0.0, 0.0], pa.float32()),
        "box": pa.array([[1.0, 2.0, 3.0, 4.0], None, None], pa.list_(pa.float32())), "slice": [0, 0, 0]})
    part = manifest_table(processed, "part-x.parquet")
    assert part.schema == MANIFEST_SCHEMA
    assert part.column("id").to_pylist() == ["b.jpg", "c.jpg", "顔/é.jpg"]   # sorted by id
    assert part.column("shard").to_pylist() == ["part-x.parquet"] * 3
    counts = manifest_counts(part)
    assert counts["outcomes"] == {"ok": 1, "unreadable": 1, "no_face": 1}
    assert counts["reasons"] == {"no_face": 1, "truncated": 1} and counts["faces_found"] == 2


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
    assert PrepareOptions(order="id").fingerprint() == PrepareOptions().fingerprint()  # layout, not crops
    with pytest.raises(KeyError, match="unknown prepare order 'shuffled'; known: id, mixed"):
        PrepareOptions(order="shuffled")


def test_the_command_line_defaults_are_the_crop_options_defaults():
    from distlm.faces.options import CropOptions
    from distlm.prepare.__main__ import CROP_DEFAULTS, build_parser

    args = build_parser().parse_args(["--input", "x", "-o", "y"])
    for name, value in vars(CROP_DEFAULTS).items():
        assert getattr(CropOptions(), name) == value == getattr(args, name), name
