"""IDX decoding and the fmnist reader (semi-supervised split)."""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from distlm.data.image_column import decode_column as images_numpy
from distlm.data.readers import create_reader, load_idx, table_classes
from distlm.data.readers.fmnist import DEFAULT_DIR

REAL = Path(DEFAULT_DIR) / "train-images-idx3-ubyte.gz"


def idx_bytes(arr: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array."""
    return struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def fake_fmnist(root: Path, n_train: int = 60, n_test: int = 20, gz: bool = True, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    out = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 4, 3), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            data = idx_bytes(arr)
            (root / (name + ".gz" if gz else name)).write_bytes(gzip.compress(data) if gz else data)
        out[prefix] = (images, labels)
    return out


def test_load_idx_roundtrip_and_errors(tmp_path: Path) -> None:
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(arr))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(arr)))
    assert np.array_equal(load_idx(str(tmp_path / "a")), arr)
    assert np.array_equal(load_idx(str(tmp_path / "a.gz")), arr)
    (tmp_path / "bad").write_bytes(b"\x12\x34" + idx_bytes(arr)[2:])
    with pytest.raises(ValueError, match=r"bad: not an IDX file"):
        load_idx(str(tmp_path / "bad"))
    (tmp_path / "short").write_bytes(idx_bytes(arr)[:-1])
    with pytest.raises(ValueError, match=r"short: IDX size mismatch.*needs 24.*has 23"):
        load_idx(str(tmp_path / "short"))
    (tmp_path / "type").write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match="unknown IDX data type 0x07"):
        load_idx(str(tmp_path / "type"))


@pytest.mark.parametrize("gz", [True, False])
def test_fmnist_reader_plain(tmp_path: Path, gz: bool) -> None:
    truth = fake_fmnist(tmp_path, gz=gz)
    table, report = create_reader("fmnist", str(tmp_path)).read()
    assert table.num_rows == 80 and report.rows == 80
    assert table.column("id").to_pylist()[:2] == ["fmnist/train/00000", "fmnist/train/00001"]
    assert table.column("id").to_pylist()[60] == "fmnist/test/00000"
    img = images_numpy(table.column("image"))
    assert img.shape == (80, 4, 3, 1) and img.dtype == np.uint8
    assert np.array_equal(img[:60, ..., 0], truth["train"][0])
    assert table.column("label").to_pylist() == list(truth["train"][1]) + list(truth["t10k"][1])
    assert set(table.column("path").to_pylist()) == {None}
    assert len(table_classes(table)) == 10


def test_fmnist_mismatched_counts_is_an_error(tmp_path: Path) -> None:
    fake_fmnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(3, np.uint8))))
    with pytest.raises(ValueError, match="t10k-images.*20 images.*t10k-labels.*3 labels"):
        create_reader("fmnist", str(tmp_path), split="test").read()
    (tmp_path / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        create_reader("fmnist", str(tmp_path), split="train").read()


def _check_ssl_split(table, true_train: np.ndarray, true_test: np.ndarray, per_class: int) -> None:
    rows = table.select(["id", "label", "domain", "split"]).to_pylist()
    train = [r for r in rows if r["split"] == "train"]
    test = [r for r in rows if r["split"] == "test"]
    lab = [r for r in train if r["domain"] == "labelled"]
    unl = [r for r in train if r["domain"] == "unlabelled"]
    ids_l, ids_u = {r["id"] for r in lab}, {r["id"] for r in unl}
    assert not ids_l & ids_u                                         # disjoint
    assert ids_l | ids_u == {f"fmnist/train/{i:05d}" for i in range(len(true_train))}  # covers
    assert np.bincount([r["label"] for r in lab], minlength=10).tolist() == [per_class] * 10
    for r in lab:                                                    # labelled keep the truth
        assert r["label"] == true_train[int(r["id"].rsplit("/", 1)[1])]
    assert {r["label"] for r in unl} == {-1}                         # no true label leaks
    assert [r["label"] for r in test] == true_test.tolist() and {r["domain"] for r in test} == {"labelled"}


def test_fmnist_labels_per_class(tmp_path: Path) -> None:
    truth = fake_fmnist(tmp_path)
    a, rep = create_reader("fmnist", str(tmp_path), labels_per_class=2, seed=3).read()
    _check_ssl_split(a, truth["train"][1], truth["t10k"][1], 2)
    assert rep.counts["unlabelled"] == 40
    b, _ = create_reader("fmnist", str(tmp_path), labels_per_class=2, seed=3).read()
    c, _ = create_reader("fmnist", str(tmp_path), labels_per_class=2, seed=4).read()
    assert a.column("domain").equals(b.column("domain"))            # deterministic
    assert not a.column("domain").equals(c.column("domain"))        # the seed matters
    with pytest.raises(ValueError, match="has only 6"):
        create_reader("fmnist", str(tmp_path), labels_per_class=7).read()


@pytest.mark.skipif(not REAL.exists(), reason="apt-get install dataset-fashion-mnist")
def test_fmnist_real_files() -> None:
    table, _ = create_reader("fmnist", DEFAULT_DIR, labels_per_class=100, seed=0).read()
    assert table.num_rows == 70000
    assert images_numpy(table.column("image")).shape == (70000, 28, 28, 1)
    true_train = load_idx(f"{DEFAULT_DIR}/train-labels-idx1-ubyte.gz")
    true_test = load_idx(f"{DEFAULT_DIR}/t10k-labels-idx1-ubyte.gz")
    assert np.bincount(true_train).tolist() == [6000] * 10
    _check_ssl_split(table, true_train, true_test, 100)
