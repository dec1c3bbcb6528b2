"""The image column's one codec: every layout decodes to the same pixels, the on-disk
layout carries its shape and version, and another layout version is refused in one
line naming both versions."""
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from distlm.data import image_column as ic

IMGS = np.random.default_rng(0).integers(0, 256, (5, 4, 3, 2), dtype=np.uint8)


def test_tensor_binary_and_parquet_round_trips(tmp_path):
    field, arr = ic.binary(IMGS)
    assert field.type == pa.binary(4 * 3 * 2) and field.metadata[ic.VERSION_KEY] == str(ic.VERSION).encode()
    table = pa.table([arr], schema=pa.schema([field]))
    pq.write_table(table, tmp_path / "s.parquet")
    for t in (table, pq.read_table(tmp_path / "s.parquet"), pa.table({"image": ic.tensor(IMGS)})):
        np.testing.assert_array_equal(ic.decode(t), IMGS)
    binary = ic.to_binary(pa.table({"image": ic.tensor(IMGS)}))
    assert pa.types.is_fixed_size_binary(binary.schema.field("image").type)
    np.testing.assert_array_equal(ic.decode(binary), IMGS)


def test_another_layout_version_is_refused_naming_both(tmp_path):
    field, arr = ic.binary(IMGS)
    old = field.with_metadata({**field.metadata, ic.VERSION_KEY: b"1"})
    pq.write_table(pa.table([arr], schema=pa.schema([old])), tmp_path / "old.parquet")
    with pytest.raises(ic.ImageLayoutError, match=r"old.parquet: image column 'image' is in layout version 1; "
                                                  r"this distlm reads version 2 \(re-run"):
        ic.decode(pq.read_table(tmp_path / "old.parquet"), source=str(tmp_path / "old.parquet"))
