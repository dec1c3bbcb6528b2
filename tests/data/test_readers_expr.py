"""Expression readers: rafdb, affectnet, folder, csv, images (counts, labels, bad input)."""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from fixtures_readers import class_tree, rafdb_tree, touch, write

from distlm.data.readers import INDEX_SCHEMA, ReadError, create_reader, table_classes
from distlm.data.readers.rafdb import RAFDB_CLASSES


def _index_schema_ok(table: pa.Table) -> None:
    assert pa.schema(list(table.schema)[:7]).equals(INDEX_SCHEMA)


RAF_LINES = (
    "train_00001.jpg 5\n"          # Sadness -> 4
    "train_00002.jpg\t1\n"         # tab separated, Surprise -> 0
    "\n"                           # blank line
    "test_00001.jpg 7\n"           # Neutral -> 6, test split
    "train_00003.jpg 9\n"          # unknown label
    "train_00004.jpg\n"            # malformed
    "train_00001.jpg 3\n"          # duplicate (first kept)
    "train_00005.jpg 2\n"          # image missing
    "../../etc/passwd.jpg 1\n"     # escapes the root
    "/abs/train_00006.jpg 1\n"     # absolute
    "other_00001.jpg 1\n"          # neither train_ nor test_
).encode() + b"train_\xff\xfe.jpg 1\n" + b"train_00007.jpg 4\r\n\n\n"


@pytest.fixture
def rafdb(tmp_path: Path) -> Path:
    return rafdb_tree(tmp_path, RAF_LINES.decode("utf-8", "replace"),
                      ["train_00001.jpg", "train_00002.jpg", "test_00001.jpg", "train_00003.jpg",
                       "train_00004.jpg", "train_00007.jpg"])


def test_rafdb_original(rafdb: Path) -> None:
    write(rafdb, "EmoLabel/list_patition_label.txt", RAF_LINES)  # with the real non-UTF-8 bytes
    table, report = create_reader("rafdb", str(rafdb)).read()
    _index_schema_ok(table)
    rows = {r["id"]: r for r in table.to_pylist()}
    assert list(rows) == ["Image/original/train_00001.jpg", "Image/original/train_00002.jpg",
                          "Image/original/test_00001.jpg", "Image/original/train_00007.jpg"]
    assert [r["label"] for r in rows.values()] == [4, 0, 6, 3]
    assert [r["split"] for r in rows.values()] == ["train", "train", "test", "train"]
    assert {r["domain"] for r in rows.values()} == {"labelled"}
    assert rows["Image/original/train_00001.jpg"]["path"] == str(rafdb / "Image/original/train_00001.jpg")
    assert table_classes(table) == list(RAFDB_CLASSES)
    assert report.rows == 4
    by = report.by_reason()
    assert by == {"blank line": 1, "unknown label": 1, "malformed line": 1, "duplicate": 1,
                  "missing image": 1, "unsafe path": 2, "unknown split": 1, "not UTF-8": 1}
    where = dict(report.skips)
    assert "unknown label" in where["EmoLabel/list_patition_label.txt:5"]
    assert "escapes the dataset root" in where["EmoLabel/list_patition_label.txt:9"]
    assert "not UTF-8" in where["EmoLabel/list_patition_label.txt:12"]
    assert "4 rows" in report.summary() and "skipped" in report.summary()


def test_rafdb_aligned_and_strict(rafdb: Path) -> None:
    write(rafdb, "EmoLabel/list_patition_label.txt", "train_00001.jpg 5\ntest_00001.jpg 1\n")
    table, report = create_reader("rafdb", str(rafdb), variant="aligned").read()
    assert table.column("id").to_pylist() == ["Image/aligned/train_00001_aligned.jpg",
                                              "Image/aligned/test_00001_aligned.jpg"]
    assert report.skipped == 0
    write(rafdb, "EmoLabel/list_patition_label.txt", "train_00001.jpg 5\ntrain_00002.jpg 8\n")
    with pytest.raises(ReadError, match=r"list_patition_label\.txt:2: unknown label"):
        create_reader("rafdb", str(rafdb), strict=True).read()


def test_rafdb_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="list_patition_label.txt"):
        create_reader("rafdb", str(tmp_path)).read()
    with pytest.raises(ValueError, match="variant"):
        create_reader("rafdb", str(tmp_path), variant="crop").read()
    with pytest.raises(ValueError, match="accepted options"):
        create_reader("rafdb", str(tmp_path), varient="aligned")


AFFECT_HEADER = ("subDirectory_filePath,face_x,face_y,face_width,face_height,"
                 "facial_landmarks,expression,valence,arousal\n")


def _affect_row(name: str, code: str) -> str:
    return f'{name},10,10,90,90,"1.0;2.0;3.0",{code},0.1,-0.2\n'


def test_affectnet(tmp_path: Path) -> None:
    lines = AFFECT_HEADER + "".join(_affect_row(n, c) for n, c in [
        ("1/a.jpg", "0"), ("1/b.jpg", "7"), ("2/c.jpg", "8"), ("2/d.jpg", "9"), ("2/e.jpg", "10"),
        ("2/f.jpg", "10"), ("3/g.jpg", "12"), ("3/h.jpg", "x"), ("1/a.jpg", "3"), ("4/nope.jpg", "1"),
        ("../x.jpg", "1"),
    ]) + "broken,line\n"
    write(tmp_path, "Manually_Annotated_file_lists/validation.csv", lines)
    touch(tmp_path / "Manually_Annotated_Images", ["1/a.jpg", "1/b.jpg", "2/c.jpg", "3/g.jpg", "3/h.jpg"])
    table, report = create_reader(
        "affectnet", str(tmp_path / "Manually_Annotated_file_lists/validation.csv")).read()
    assert table.column("id").to_pylist() == ["1/a.jpg", "1/b.jpg"]
    assert table.column("label").to_pylist() == [0, 7]
    assert set(table.column("split").to_pylist()) == {"test"}
    assert table.column("path")[0].as_py() == str(tmp_path / "Manually_Annotated_Images/1/a.jpg")
    assert report.counts["dropped None (8)"] == 1
    assert report.counts["dropped Uncertain (9)"] == 1
    assert report.counts["dropped No-Face (10)"] == 2
    assert report.by_reason() == {"unknown label": 2, "duplicate": 1, "missing image": 1,
                                  "unsafe path": 1, "malformed line": 1}
    assert table_classes(table)[7] == "Contempt"


def test_folder(tmp_path: Path) -> None:
    class_tree(tmp_path, {"sad": ["1.jpg", "2.PNG"], "happy": ["x.jpg"], "angry": ["s/deep.jpg"]})
    touch(tmp_path, ["loose.jpg", "happy/.hidden.jpg", "sad/readme.txt"])
    table, report = create_reader("folder", str(tmp_path), split="test").read()
    assert table_classes(table) == ["angry", "happy", "sad"]
    assert dict(zip(table.column("id").to_pylist(), table.column("label").to_pylist())) == {
        "angry/s/deep.jpg": 0, "happy/x.jpg": 1, "sad/1.jpg": 2, "sad/2.PNG": 2}
    assert set(table.column("split").to_pylist()) == {"test"}
    assert report.counts["not in a class folder"] == 1
    table, report = create_reader("folder", str(tmp_path), classes=["sad", "happy"]).read()
    assert dict(zip(table.column("id").to_pylist(), table.column("label").to_pylist())) == {
        "happy/x.jpg": 1, "sad/1.jpg": 0, "sad/2.PNG": 0}
    assert report.by_reason() == {"unknown label": 1}


def test_csv_labels_by_name_and_unlabelled(tmp_path: Path) -> None:
    touch(tmp_path, ["img/a.jpg", "img/b.jpg", "img/c.jpg", "img/d.jpg"])
    write(tmp_path, "list.csv", "path,label,split\nimg/a.jpg,sad,train\nimg/b.jpg,happy,test\n"
                                "img/c.jpg,,train\nimg/d.jpg,sad,valid\nimg/zz.jpg,sad,train\n")
    table, report = create_reader("csv", str(tmp_path / "list.csv")).read()
    assert table_classes(table) == ["happy", "sad"]
    rows = table.to_pylist()
    assert [(r["id"], r["label"], r["domain"], r["split"]) for r in rows] == [
        ("img/a.jpg", 1, "labelled", "train"), ("img/b.jpg", 0, "labelled", "test"),
        ("img/c.jpg", -1, "unlabelled", "train")]
    assert report.by_reason() == {"unknown split": 1, "missing image": 1}
    table, report = create_reader("csv", str(tmp_path / "list.csv"), classes=["sad"]).read()
    assert report.counts["unknown label"] == 1  # 'happy' not among the given classes


def test_csv_int_labels_and_openface_aus(tmp_path: Path) -> None:
    touch(tmp_path, ["a.jpg", "b.jpg", "c.jpg"])
    write(tmp_path, "feat.csv", "input,AU12,AU01,AU04,label\na.jpg,0.5,1,999,2\n"
                                "b.jpg,nan,0,3.5,0\nc.jpg,1,1,1,-4\n")
    table, report = create_reader("csv", str(tmp_path / "feat.csv")).read()
    assert table.column("label").to_pylist() == [2, 0]
    assert table.column("au").to_pylist() == [[1.0, 0.0, 0.5], [0.0, 3.5, 0.0]]  # AU01, AU04, AU12
    assert table.column("au_mask").to_pylist() == [[True, False, True], [True, True, False]]
    assert report.counts["masked au values"] == 2 and report.by_reason() == {"unknown label": 1}
    write(tmp_path, "oface.csv", "frame, path, AU01_r, AU01_c, AU02_c\n1, a.jpg, 2.5, 1, 0\n")
    table, _ = create_reader("csv", str(tmp_path / "oface.csv")).read()
    assert table.column("au").to_pylist() == [[1.0, 0.0]]  # presence columns before intensities


def test_csv_without_label_or_au_columns_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "x.csv", "path,score\na.jpg,1\n")
    with pytest.raises(ValueError, match=r"x\.csv.*neither"):
        create_reader("csv", str(tmp_path / "x.csv")).read()


def test_images_pool(tmp_path: Path) -> None:
    touch(tmp_path, ["m/1.jpg", "m/2/3.jpg", "x.txt"])
    table, report = create_reader("images", str(tmp_path)).read()
    assert table.column("id").to_pylist() == ["m/1.jpg", "m/2/3.jpg"]
    assert set(table.column("label").to_pylist()) == {-1}
    assert set(table.column("domain").to_pylist()) == {"unlabelled"}
    assert report.rows == 2
