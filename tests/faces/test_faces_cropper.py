"""FaceCropper called as Ray Data would call it (a pyarrow batch in, one out), no Ray."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from distlm.data.image_column import decode
from distlm.data.image_column import tensor as image_array
from distlm.faces import UNREADABLE, CropOptions, FaceCropper
from distlm.faces.ray_cropper import OUTPUT_COLUMNS
from distlm.images import synthetic as syn

skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("cropper")
    astro = skdata.astronaut()
    data = {
        "face.jpg": syn.encode(astro, "JPEG", quality=95),
        "empty.jpg": b"",
        "text.jpg": b"not an image\n",
        "cut.jpg": syn.truncated_jpeg(astro),
        "plain.png": syn.encode(syn.gradient(), "PNG"),
    }
    for name, blob in data.items():
        (root / name).write_bytes(blob)
    return {name: str(root / name) for name in data}


def _batch(paths):
    n = len(paths)
    return pa.table({"id": [f"r{i}" for i in range(n)], "path": paths, "label": pa.array([3] * n, pa.int32()),
                     "slice": pa.array([0] * n, pa.int32())})


def test_outcomes_and_columns(files):
    cropper = FaceCropper(CropOptions(detector="haar", size=64, detect_batch=2), num_threads=1)
    order = ["face.jpg", "empty.jpg", "text.jpg", "cut.jpg", "plain.png"]
    out = cropper(_batch([files[k] for k in order]))
    assert out.num_rows == 5
    for col in ("id", "path", "label", "slice") + OUTPUT_COLUMNS:
        assert col in out.column_names
    outcomes = out.column("outcome").to_pylist()
    reasons = out.column("reason").to_pylist()
    assert outcomes == ["ok", UNREADABLE, UNREADABLE, UNREADABLE, "no_face"]
    assert reasons == [None, "empty", "not_an_image", "truncated", None]
    images = decode(out)
    assert images.shape == (5, 64, 64, 3) and images.dtype == np.uint8
    assert images[0].std() > 10 and (images[1:] == 0).all()
    assert out.column("box").type == pa.list_(pa.float32())
    assert out.column("label").to_pylist() == [3] * 5
    assert files["text.jpg"] in out.column("detail")[2].as_py()


def test_in_memory_images_replace_image_column():
    gray = np.random.default_rng(0).integers(0, 255, (3, 28, 28, 1), dtype=np.uint8)
    batch = pa.table({"id": ["a", "b", "c"], "path": pa.array([None] * 3, pa.string()), "image": image_array(gray)})
    out = FaceCropper(CropOptions(detector="none", size=28), num_threads=1)(batch)
    crops = decode(out)
    assert crops.shape == (3, 28, 28, 3)
    np.testing.assert_array_equal(crops[..., 1], gray[..., 0])
    assert out.column("outcome").to_pylist() == ["ok"] * 3


def test_chunks_restart_at_each_group():
    cropper = FaceCropper(CropOptions(detector="none", detect_batch=2), num_threads=1)
    batch = pa.table({"id": list("abcde"), "slice": pa.array([0, 0, 0, 1, 1], pa.int32())})
    assert [list(r) for r in cropper._chunks(batch)] == [[0, 1], [2], [3, 4]]
