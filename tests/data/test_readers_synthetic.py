"""The synthetic reader: shapes, labels, AUs, domains and splits as asked, the same
rows for the same seed, and a class signal a model can learn."""
import numpy as np
import pytest

from distlm.data.image_column import decode_column as images_numpy
from distlm.data.readers import create_reader


def _read(**options):
    table, _ = create_reader("synthetic", "syn", **options).read()
    return table


def test_rows_labels_aus_and_splits():
    t = _read(rows=10, test_rows=4, size=20, channels=1, classes=3, aus=5)
    assert t.num_rows == 14 and images_numpy(t.column("image")).shape == (14, 20, 20, 1)
    assert t.column("split").to_pylist() == ["train"] * 10 + ["test"] * 4
    assert t.column("label").to_pylist()[:4] == [0, 1, 2, 0]
    assert all(len(a) == 5 for a in t.column("au").to_pylist())
    assert all(all(m) for m in t.column("au_mask").to_pylist())


def test_unlabelled_domain_has_no_labels_and_no_aus():
    t = _read(rows=6, split="train", domain="unlabelled", aus=3)
    assert set(t.column("domain").to_pylist()) == {"unlabelled"}
    assert set(t.column("label").to_pylist()) == {-1}
    assert t.column("au").null_count == 6


def test_same_seed_same_pixels_and_classes_differ():
    a, b = _read(rows=8, seed=3), _read(rows=8, seed=3)
    ia, ib = images_numpy(a.column("image")), images_numpy(b.column("image"))
    assert np.array_equal(ia, ib)
    labels = np.array(a.column("label").to_pylist())
    means = [ia[labels == c].mean(axis=(0, 2, 3)) for c in range(2)]
    assert not np.allclose(means[0], means[1])  # the band sits on other rows for each class


@pytest.mark.parametrize("bad", [dict(split="val"), dict(domain="other"), dict(size=0), dict(rows=-1)])
def test_bad_options_are_named(bad):
    with pytest.raises(ValueError, match=f"synthetic: {next(iter(bad))}"):
        _read(**bad)
