"""Arrow columns of the shared schema → arrays, whatever tensor type carries the image."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distlm.data.image_column import decode as image_array
from distlm.data.loading import domain_arrays

IMGS = np.random.default_rng(0).integers(0, 256, (5, 4, 3, 2), dtype=np.uint8)


def table(image_col):
    return pa.table({
        "image": image_col,
        "label": pa.array([0, 1, None, 3, -1], pa.int32()),
        "au": pa.array([[1.0, 0.0], None, [0.5, None], [0.0, 1.0], None], pa.list_(pa.float32())),
        "au_mask": pa.array([[True, True], None, [True, False], [True, True], None], pa.list_(pa.bool_())),
        "domain": pa.array(["labelled", "labelled", "unlabelled", "labelled", "unlabelled"]),
    })


def test_fixed_shape_tensor_and_nullable_lists():
    a = domain_arrays(table(pa.FixedShapeTensorArray.from_numpy_ndarray(IMGS)))
    np.testing.assert_array_equal(a.images, IMGS)
    assert a.labels.tolist() == [0, 1, -1, 3, -1]
    np.testing.assert_array_equal(a.au, [[1, 0], [0, 0], [0.5, 0], [0, 1], [0, 0]])
    assert a.au_mask.tolist() == [[True, True], [False, False], [True, False], [True, True], [False, False]]


def test_domain_filter():
    a = domain_arrays(table(pa.FixedShapeTensorArray.from_numpy_ndarray(IMGS)), domain="unlabelled")
    np.testing.assert_array_equal(a.images, IMGS[[2, 4]])


def test_ray_tensor_type_and_its_parquet_read_without_ray(tmp_path):
    from ray.data.extensions import ArrowTensorArray

    t = table(ArrowTensorArray.from_numpy(IMGS))
    np.testing.assert_array_equal(image_array(t), IMGS)
    pq.write_table(t, tmp_path / "x.parquet")
    np.testing.assert_array_equal(image_array(pq.read_table(tmp_path / "x.parquet")), IMGS)
    # Read without Ray imported, pyarrow gives the storage list plus the shape in field metadata.
    meta = {b"ARROW:extension:name": b"ray.data.arrow_tensor_v2", b"ARROW:extension:metadata": b"[4, 3, 2]"}
    storage = pa.array(list(IMGS.reshape(5, -1)), pa.large_list(pa.uint8()))
    plain = pa.Table.from_arrays([storage], schema=pa.schema([pa.field("image", storage.type, metadata=meta)]))
    np.testing.assert_array_equal(image_array(plain), IMGS)


def test_grayscale_gets_a_channel_and_bad_images_raise():
    gray = pa.FixedShapeTensorArray.from_numpy_ndarray(IMGS[..., 0].copy())
    assert image_array(pa.table({"image": gray})).shape == (5, 4, 3, 1)
    with pytest.raises(KeyError, match="no 'image' column"):
        image_array(pa.table({"x": [1]}), source="crops.parquet")
    floats = pa.FixedShapeTensorArray.from_numpy_ndarray(IMGS.astype(np.float32))
    with pytest.raises(ValueError, match="uint8"):
        image_array(pa.table({"image": floats}))
    with pytest.raises(ValueError, match="different lengths"):
        domain_arrays(pa.table({"image": pa.FixedShapeTensorArray.from_numpy_ndarray(IMGS[:2]),
                                "au": pa.array([[1.0], [1.0, 2.0]])}))


def test_binary_layout_round_trips_through_parquet(tmp_path):
    from distlm.data.image_column import binary as image_binary_column

    field, arr = image_binary_column(IMGS)
    t = pa.Table.from_arrays([arr], schema=pa.schema([field]))
    np.testing.assert_array_equal(image_array(t.slice(1, 3)), IMGS[1:4])
    pq.write_table(t, tmp_path / "b.parquet")
    back = pq.read_table(tmp_path / "b.parquet")
    np.testing.assert_array_equal(image_array(back), IMGS)
    variable = pa.Table.from_arrays([back.column("image").cast(pa.binary())],
                                    schema=pa.schema([back.schema.field("image").with_type(pa.binary())]))
    np.testing.assert_array_equal(image_array(variable), IMGS)
    with pytest.raises(ValueError, match="distlm.shape"):
        image_array(pa.table({"image": arr}))
