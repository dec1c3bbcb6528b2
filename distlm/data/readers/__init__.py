"""Dataset readers: each turns a dataset's published layout into the shared index.

``create_reader(format, path, **options).read() -> (pyarrow.Table, ReadReport)``;
``list_readers()`` names the formats; ``read_dataset(spec)`` gives a
``ray.data.Dataset``. The schema is in ``distlm.data.readers.schema``.

Reader modules are imported here explicitly: registration is visible, and an
import error in one of them fails loudly instead of hiding a format.
"""
from distlm.data.report import ReadError, ReadReport
from distlm.data.readers.base import READERS, Reader, create_reader, list_readers, read_index
from distlm.data.readers import (  # noqa: F401  (registration)
    affectnet,
    bp4d,
    csv_table,
    disfa,
    emotionet,
    fmnist,
    folder,
    images,
    parquet,
    rafdb,
    synthetic,
)
from distlm.data.readers.dataset import read_dataset, read_table
from distlm.data.readers.idx import load_idx
from distlm.data.readers.schema import INDEX_COLUMNS, INDEX_SCHEMA, table_au_ids, table_classes

__all__ = [
    "READERS", "Reader", "ReadError", "ReadReport", "create_reader", "list_readers",
    "read_index", "read_dataset", "read_table", "load_idx", "INDEX_COLUMNS", "INDEX_SCHEMA",
    "table_au_ids", "table_classes",
]
