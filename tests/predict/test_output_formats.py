"""Result files by extension: ``.json`` is one JSON array, ``.jsonl`` one object per line,
an unknown extension a user error naming the formats."""
import json

import pyarrow as pa
import pytest

from distlm.errors import UserError
from distlm.predict.results import write_table

TABLE = pa.table({"source": ["a.jpg", "b.jpg"], "face": [0, 1], "score": [0.25, 0.5]})


def test_json_is_one_array_and_jsonl_one_object_per_line(tmp_path):
    rows = TABLE.to_pylist()
    with open(write_table(TABLE, str(tmp_path / "r.json"))) as f:
        assert json.load(f) == rows
    with open(write_table(TABLE, str(tmp_path / "r.jsonl"))) as f:
        assert [json.loads(line) for line in f] == rows


def test_unknown_extension(tmp_path):
    with pytest.raises(UserError, match=r"unknown output format '.xlsx'; use .parquet, .csv, .jsonl, .json"):
        write_table(TABLE, str(tmp_path / "r.xlsx"))
