"""The same trees read from local disk and from a loopback S3 (moto_server)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Dict

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fixtures_readers import class_tree, rafdb_tree, s3_storage, touch  # noqa: F401 (fixture)

from distlm.data.fs import exists, read_text, resolve
from distlm.data.listing import list_images, read_files
from distlm.data.readers import create_reader
from distlm.data.report import ReadReport

pytestmark = pytest.mark.slow
boto3 = pytest.importorskip("boto3", reason="pip install 'moto[server]'")


@pytest.fixture(scope="module")
def bucket(s3_storage: Dict[str, str]) -> str:  # noqa: F811
    name = f"t-{uuid.uuid4().hex[:8]}"
    _boto(s3_storage).create_bucket(Bucket=name)
    return name


def _upload(local: Path, uri: str, storage: Dict[str, str]) -> None:
    fs, key = resolve(uri, storage)
    for p in sorted(local.rglob("*")):
        if p.is_file():
            fs.pipe_file(f"{key}/{p.relative_to(local).as_posix()}", p.read_bytes())


def _boto(storage: Dict[str, str]):
    return boto3.client("s3", endpoint_url=storage["endpoint_url"], region_name=storage["region"],
                        aws_access_key_id=storage["key"], aws_secret_access_key=storage["secret"])


def _same_index(a: pa.Table, b: pa.Table) -> None:
    cols = ["id", "label", "au", "au_mask", "domain", "split"]
    assert a.select(cols).equals(b.select(cols))


def test_list_images_local_equals_s3(tmp_path: Path, s3_storage, bucket: str) -> None:  # noqa: F811
    touch(tmp_path, ["b/z.JPG", "a/x.png", "été/日本.jpg", ".hid/x.jpg", "a/n.txt"])
    _upload(tmp_path, f"s3://{bucket}/pool", s3_storage)
    local = [p[len(str(tmp_path)) + 1:] for p in list_images(str(tmp_path))]
    remote = list(list_images(f"s3://{bucket}/pool", storage=s3_storage))
    assert remote == [f"s3://{bucket}/pool/{r}" for r in local]
    assert local == ["a/x.png", "b/z.JPG", "été/日本.jpg"]
    assert exists(f"s3://{bucket}/pool/a/x.png", s3_storage)
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        list(list_images(f"s3://{bucket}/nothing-here", storage=s3_storage))
    with pytest.raises(FileNotFoundError, match="no-such-bucket"):
        list(list_images("s3://no-such-bucket/x", storage=s3_storage))


def test_folder_and_rafdb_local_equals_s3(tmp_path: Path, s3_storage, bucket: str) -> None:  # noqa: F811
    class_tree(tmp_path / "cls", {"sad": ["1.jpg", "ü.jpg"], "happy": ["2.jpg"]})
    rafdb_tree(tmp_path / "raf", "train_00001.jpg 5\ntest_00002.jpg 1\ntrain_00003.jpg 9\n"
                                 "train_00004.jpg 2\n", ["train_00001.jpg", "test_00002.jpg", "train_00003.jpg"])
    for name in ("cls", "raf"):
        _upload(tmp_path / name, f"s3://{bucket}/{name}", s3_storage)
    for fmt, name in (("folder", "cls"), ("rafdb", "raf")):
        lt, lr = create_reader(fmt, str(tmp_path / name)).read()
        st, sr = create_reader(fmt, f"s3://{bucket}/{name}", storage=s3_storage).read()
        _same_index(lt, st)
        assert lt.num_rows > 0 and lr.by_reason() == sr.by_reason()
        assert all(p.startswith(f"s3://{bucket}/{name}/") for p in st.column("path").to_pylist())
    assert read_text(f"s3://{bucket}/raf/EmoLabel/list_patition_label.txt", s3_storage).startswith("train_")


def test_key_deleted_between_listing_and_reading(tmp_path: Path, s3_storage, bucket: str) -> None:  # noqa: F811
    touch(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    _upload(tmp_path, f"s3://{bucket}/del", s3_storage)
    paths = list(list_images(f"s3://{bucket}/del", storage=s3_storage))
    assert len(paths) == 3
    _boto(s3_storage).delete_object(Bucket=bucket, Key="del/b.jpg")  # someone else deletes it
    report = ReadReport("t")
    got = dict(read_files(paths, storage=s3_storage, report=report))
    assert sorted(got) == [f"s3://{bucket}/del/a.jpg", f"s3://{bucket}/del/c.jpg"]
    assert [w for w, _ in report.skips] == [f"s3://{bucket}/del/b.jpg"]
    assert report.counts["missing file"] == 1


def test_parquet_shards_local_and_s3(tmp_path: Path, s3_storage, bucket: str) -> None:  # noqa: F811
    table, _ = create_reader("images", str(_pool(tmp_path / "pool"))).read()
    out = tmp_path / "crops"
    out.mkdir()
    pq.write_table(table.slice(0, 2), out / "part-000.parquet")
    pq.write_table(table.slice(2), out / "part-001.parquet")
    pq.write_table(table.drop_columns(["au"]), out / "part-002.parquet")  # missing a column
    (out / "part-003.parquet").write_bytes(b"not parquet")
    _upload(out, f"s3://{bucket}/crops", s3_storage)
    lt, lr = create_reader("parquet", str(out)).read()
    st, sr = create_reader("parquet", f"s3://{bucket}/crops", storage=s3_storage).read()
    assert lt.select(["id"]).equals(table.select(["id"])) and lt.equals(st)
    assert lr.by_reason() == sr.by_reason() == {"missing columns": 1, "unreadable shard": 1}


def _pool(root: Path) -> Path:
    touch(root, [f"{i}.jpg" for i in range(5)])
    return root
