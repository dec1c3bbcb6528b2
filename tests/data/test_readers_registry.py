"""Every registered reader on a minimal tree; the registry; read_dataset via Ray."""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Callable, Dict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures_readers import class_tree, rafdb_tree, touch, write

from distlm.data.image_column import decode_column as images_numpy
from distlm.data.readers import INDEX_SCHEMA, READERS, create_reader, list_readers, read_table
from distlm.data.readers.bp4d import bp4d_folds
from distlm.data.readers.disfa import DISFA_AUS


def _idx(arr: np.ndarray) -> bytes:
    head = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return gzip.compress(head + arr.tobytes())


def _fmnist(root: Path) -> str:
    for prefix in ("train", "t10k"):
        (root / f"{prefix}-images-idx3-ubyte.gz").write_bytes(_idx(np.zeros((10, 2, 2), np.uint8)))
        (root / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(_idx(np.arange(10, dtype=np.uint8)))
    return str(root)


def _rafdb(root: Path) -> str:
    return str(rafdb_tree(root, "train_1.jpg 1\n", ["train_1.jpg"]))


def _affectnet(root: Path) -> str:
    touch(root / "Manually_Annotated_Images", ["1/a.jpg"])
    return str(write(root, "lists/training.csv", "subDirectory_filePath,face_x,face_y,face_width,"
                     "face_height,facial_landmarks,expression,valence,arousal\n1/a.jpg,0,0,1,1,,3,0,0\n"))


def _emotionet(root: Path) -> str:
    touch(root, ["a.jpg"])
    return str(write(root, "e.csv", "a.jpg," + ",".join(["1"] * 12) + "\n"))


def _disfa(root: Path) -> str:
    for au in DISFA_AUS:
        write(root, f"ActionUnit_Labels/SN001/SN001_au{au}.txt", "1,3\n")
    touch(root, ["Frames/SN001/00001.jpg"])
    return str(root)


def _bp4d(root: Path) -> str:
    subject = bp4d_folds()[1][0]
    write(root, f"AUCoding/{subject}_T2.csv", "0," + ",".join(map(str, range(1, 28))) + "\n"
          "7," + ",".join(["1"] * 27) + "\n")
    touch(root, [f"Sequences/{subject}/T2/0007.jpg"])
    return str(root)


def _csv(root: Path) -> str:
    touch(root, ["a.jpg"])
    return str(write(root, "l.csv", "path,label\na.jpg,0\n"))


def _parquet(root: Path) -> str:
    table, _ = create_reader("images", _images(root / "src")).read()
    (root / "out").mkdir()
    pq.write_table(table, root / "out/part-0.parquet")
    return str(root / "out")


def _images(root: Path) -> str:
    touch(root, ["x/1.jpg"])
    return str(root)


def _folder(root: Path) -> str:
    return str(class_tree(root, {"a": ["1.jpg"], "b": ["2.jpg"]}))


TREES: Dict[str, Callable[[Path], str]] = {
    "affectnet": _affectnet, "bp4d": _bp4d, "csv": _csv, "disfa": _disfa, "emotionet": _emotionet,
    "fmnist": _fmnist, "folder": _folder, "images": _images, "parquet": _parquet, "rafdb": _rafdb,
    "synthetic": lambda root: "synthetic",  # generated, nothing on disk
}


def test_every_reader_has_a_smoke_tree() -> None:
    assert sorted(TREES) == list_readers()


@pytest.mark.parametrize("fmt", sorted(READERS.list()))
def test_reader_smoke(fmt: str, tmp_path: Path) -> None:
    table, report = create_reader(fmt, TREES[fmt](tmp_path)).read()
    assert table.num_rows >= 1 and report.rows == table.num_rows and report.skipped == 0
    assert pa.schema(list(table.schema)[:7]).equals(INDEX_SCHEMA)
    assert table.column("id").null_count == 0
    assert len(set(table.column("id").to_pylist())) == table.num_rows
    assert set(table.column("domain").to_pylist()) <= {"labelled", "unlabelled"}
    assert set(table.column("split").to_pylist()) <= {"train", "test"}
    au, mask = table.column("au").to_pylist(), table.column("au_mask").to_pylist()
    assert [None if a is None else len(a) for a in au] == [None if m is None else len(m) for m in mask]


def test_unknown_reader_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="rafdb"):
        create_reader("raf", "/x")


def test_read_table_concatenates_sources(tmp_path: Path) -> None:
    merged = read_table([
        {"format": "folder", "path": _folder(tmp_path / "f")},
        {"format": "images", "path": _images(tmp_path / "i")},
    ])
    assert merged.column("domain").to_pylist() == ["labelled", "labelled", "unlabelled"]
    with pytest.raises(ValueError, match="path"):
        read_table({"format": "images"})


@pytest.mark.slow
def test_read_dataset_gives_a_ray_dataset(ray_shared, tmp_path: Path) -> None:
    from distlm.data.readers import read_dataset

    ds = read_dataset({"format": "fmnist", "path": _fmnist(tmp_path)})
    batch = ds.take_batch(20, batch_format="numpy")
    assert batch["image"].shape == (20, 2, 2, 1) and batch["image"].dtype == np.uint8
    assert batch["label"].tolist() == list(range(10)) * 2


def test_parquet_turns_ray_tensor_columns_into_fixed_shape_tensors(tmp_path: Path) -> None:
    index, _ = create_reader("images", _images(tmp_path / "src")).read()
    pixels = np.arange(4, dtype=np.uint8).reshape(1, 2, 2, 1)
    meta = {b"ARROW:extension:name": b"ray.data.arrow_tensor_v2", b"ARROW:extension:metadata": b"[2, 2, 1]"}
    image = pa.array([pixels.reshape(-1).tolist()], type=pa.large_list(pa.uint8()))
    table = index.append_column(pa.field("image", image.type, metadata=meta), image)
    (tmp_path / "out").mkdir()
    pq.write_table(table, tmp_path / "out/part-0.parquet")
    got, _ = create_reader("parquet", str(tmp_path / "out")).read()
    assert got.schema.field("image").type == pa.fixed_shape_tensor(pa.uint8(), (2, 2, 1))
    assert np.array_equal(images_numpy(got.column("image")), pixels)
