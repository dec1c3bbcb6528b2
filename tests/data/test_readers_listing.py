"""distlm.data.fs and distlm.data.listing on local trees."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from fixtures_readers import touch

from distlm.data import fs as dfs
from distlm.data.listing import list_images, read_files
from distlm.data.report import ReadError, ReadReport


def test_resolve_local_is_absolute_and_normalised(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    fs, p = dfs.resolve("a/./b/../c/")
    assert dfs.is_local(fs)
    assert p == str(tmp_path / "a" / "c")


def test_resolve_s3_path_and_options(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:2")
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    opts = dfs.s3_options(None)
    assert opts["endpoint_url"] == "http://127.0.0.1:2"  # the S3-specific variable wins
    assert opts["client_kwargs"]["region_name"] == "eu-west-3"
    assert dfs.s3_options({"endpoint_url": "http://127.0.0.1:3"})["endpoint_url"] == "http://127.0.0.1:3"
    assert dfs.s3_options({"anon": "true"})["anon"] is True
    fs, p = dfs.resolve("s3://bucket/some/prefix/", {"endpoint_url": "http://127.0.0.1:3"})
    assert p == "bucket/some/prefix"
    assert dfs.to_uri(fs, p) == "s3://bucket/some/prefix"


def test_resolve_rejects_unknown_storage_key_and_scheme() -> None:
    with pytest.raises(ValueError, match="endpoint"):
        dfs.s3_options({"endpoint": "http://127.0.0.1:9"})
    with pytest.raises(ValueError, match="unsupported URI scheme"):
        dfs.resolve("gs://bucket/x")


def test_open_exists_read_text(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_bytes("héllo".encode())
    assert dfs.exists(str(f)) and not dfs.exists(str(tmp_path / "nope"))
    assert dfs.read_text(str(f)) == "héllo"
    with pytest.raises(FileNotFoundError, match="nope"):
        dfs.open_binary(str(tmp_path / "nope"))
    f.write_bytes(b"ok\xff")
    with pytest.raises(ValueError, match=r"t\.txt.*byte 2"):
        dfs.read_text(str(f))


def test_list_images_sorted_recursive_hidden_case_unicode(tmp_path: Path) -> None:
    touch(tmp_path, [
        "b/z.JPG", "b/a.png", "a/deep/x.jpeg", "été/日本.jpg", "root.Png",
        ".hidden/x.jpg", "a/.secret.jpg", "a/notes.txt", "a/raw.JPEG.bak",
    ])
    got = list(list_images(str(tmp_path)))
    rels = [os.path.relpath(p, tmp_path) for p in got]
    assert rels == sorted(["b/z.JPG", "b/a.png", "a/deep/x.jpeg", "été/日本.jpg", "root.Png"])
    assert all(os.path.isabs(p) for p in got)
    assert list(list_images(str(tmp_path))) == got  # deterministic
    assert [os.path.relpath(p, tmp_path) for p in list_images(str(tmp_path), extensions=("png",))] == [
        "b/a.png", "root.Png",
    ]


def test_list_images_reports_unreadable_directory(tmp_path: Path) -> None:
    touch(tmp_path, ["ok/a.jpg"])
    os.symlink("loop", tmp_path / "loop")  # a self-referencing link: unreadable even for root
    report = ReadReport("t")
    got = list(list_images(str(tmp_path), report=report))
    assert [os.path.basename(p) for p in got] == ["a.jpg"]
    assert report.counts["unreadable directory"] == 1
    assert report.skips[0][0].endswith("loop")
    with pytest.raises(ReadError, match="loop"):
        list(list_images(str(tmp_path), report=ReadReport("t", strict=True)))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads directories whatever their mode")
def test_list_images_reports_permission_denied(tmp_path: Path) -> None:
    touch(tmp_path, ["ok/a.jpg", "closed/b.jpg"])
    (tmp_path / "closed").chmod(0)
    try:
        report = ReadReport("t")
        got = list(list_images(str(tmp_path), report=report))
        assert [os.path.basename(p) for p in got] == ["a.jpg"]
        assert report.skips and "closed" in report.skips[0][0]
    finally:
        (tmp_path / "closed").chmod(0o755)


def test_list_images_reports_broken_link(tmp_path: Path) -> None:
    touch(tmp_path, ["a.jpg"])
    os.symlink(tmp_path / "gone.jpg", tmp_path / "b.jpg")
    report = ReadReport("t")
    assert len(list(list_images(str(tmp_path), report=report))) == 1
    assert report.counts["broken link"] == 1


def test_list_images_missing_root_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        list(list_images(str(tmp_path / "nope")))


def test_read_files_reports_file_deleted_after_listing(tmp_path: Path) -> None:
    touch(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    paths = list(list_images(str(tmp_path)))
    (tmp_path / "b.jpg").unlink()
    report = ReadReport("t")
    got = dict(read_files(paths, report=report))
    assert sorted(os.path.basename(p) for p in got) == ["a.jpg", "c.jpg"]
    assert report.skips == [(str(tmp_path / "b.jpg"), "missing file: gone since listing")]
