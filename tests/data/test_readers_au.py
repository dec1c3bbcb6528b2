"""AU readers: emotionet, disfa, bp4d (values, masks, splits, bad input)."""
from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_readers import touch, write

from distlm.data.readers import ReadError, create_reader, table_au_ids
from distlm.data.readers.bp4d import BP4D_AUS, bp4d_folds, bp4d_subjects
from distlm.data.readers.disfa import DISFA_AUS
from distlm.data.readers.emotionet import EMOTIONET_AUS

# ------------------------------------------------------------------ EmotioNet


def test_emotionet_no_header_urls_masks(tmp_path: Path) -> None:
    touch(tmp_path, ["images/a.jpg", "images/b.jpg", "images/c.jpg", "images/sub/d.jpg"])
    aus = lambda *v: "\t".join(str(x) for x in v)  # noqa: E731
    twelve = [1, 0, 999, 1, 0, 0, 1, 0, "NaN", 0, 1, 7]
    lines = (
        f"http://host.example/x/a.jpg\t{aus(*twelve)}\n"
        f"sub/d.jpg\t{aus(*[0] * 12)}\n"
        f"b.jpg\t{aus(*[1] * 12)}\n"
        "\n"
        f"c.jpg\t{aus(*[1] * 11)}\n"                 # malformed: 11 AUs
        f"http://other.example/b.jpg\t{aus(*[0] * 12)}\n"  # duplicate basename b.jpg
        f"../c.jpg\t{aus(*[0] * 12)}\n"               # escapes
        f"gone.jpg\t{aus(*[0] * 12)}\n"               # missing image
    )
    write(tmp_path, "annot.tsv", lines)
    table, report = create_reader("emotionet", str(tmp_path / "annot.tsv"),
                                  image_root=str(tmp_path / "images")).read()
    assert table_au_ids(table) == list(EMOTIONET_AUS)
    assert table.column("id").to_pylist() == ["a.jpg", "sub/d.jpg", "b.jpg"]
    assert table.column("au").to_pylist()[0] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]
    assert table.column("au_mask").to_pylist()[0] == [True, True, False, True, True, True, True,
                                                      True, False, True, True, False]
    assert table.column("au_mask").to_pylist()[2] == [True] * 12
    assert set(table.column("label").to_pylist()) == {-1}
    assert report.counts["masked au values"] == 3  # 999, NaN, 7: masked, never skipped
    assert report.by_reason() == {"blank line": 1, "malformed line": 1, "duplicate": 1,
                                  "unsafe path": 1, "missing image": 1}


def test_emotionet_header_selects_columns(tmp_path: Path) -> None:
    touch(tmp_path, ["a.jpg"])
    write(tmp_path, "e.csv", "image,AU12,AU1,AU25\na.jpg,1,0,999\n")
    table, _ = create_reader("emotionet", str(tmp_path / "e.csv")).read()
    assert table_au_ids(table) == [12, 1, 25]
    assert table.column("au").to_pylist() == [[1.0, 0.0, 0.0]]
    assert table.column("au_mask").to_pylist() == [[True, True, False]]
    table, _ = create_reader("emotionet", str(tmp_path / "e.csv"), au_ids=[1, 12]).read()
    assert table.column("au").to_pylist() == [[0.0, 1.0]]
    with pytest.raises(ValueError, match=r"e\.csv:1: header lacks AU\(s\) \[43\]"):
        create_reader("emotionet", str(tmp_path / "e.csv"), au_ids=[1, 43]).read()


# ---------------------------------------------------------------------- DISFA


def _disfa(root: Path, subject: str, values: dict, frames: int = 3) -> None:
    for au in DISFA_AUS:
        rows = values.get(au, [0] * frames)
        write(root, f"ActionUnit_Labels/{subject}/{subject}_au{au}.txt",
              "".join(f"{i + 1},{v}\n" for i, v in enumerate(rows)))
    touch(root, [f"Frames/{subject}/{i + 1:05d}.jpg" for i in range(frames)])


def test_disfa_binarised_and_intensity(tmp_path: Path) -> None:
    _disfa(tmp_path, "SN001", {1: [0, 2, 5], 4: [1, 3, "x"], 26: [0, 0, 9]})
    _disfa(tmp_path, "SN002", {}, frames=2)
    (tmp_path / "Frames/SN002/00002.jpg").unlink()
    write(tmp_path, "ActionUnit_Labels/SN002/SN002_au2.txt", "1,0\n\nnot a line\n1,4\n2,1\n")
    table, report = create_reader("disfa", str(tmp_path), test_subjects=["SN002"]).read()
    assert table_au_ids(table) == list(DISFA_AUS)
    assert table.column("id").to_pylist() == [
        "Frames/SN001/00001.jpg", "Frames/SN001/00002.jpg", "Frames/SN001/00003.jpg", "Frames/SN002/00001.jpg"]
    au = table.column("au").to_pylist()
    mask = table.column("au_mask").to_pylist()
    i1, i4, i26 = DISFA_AUS.index(1), DISFA_AUS.index(4), DISFA_AUS.index(26)
    assert [a[i1] for a in au[:3]] == [0.0, 1.0, 1.0]  # threshold 2
    assert [a[i4] for a in au[:3]] == [0.0, 1.0, 0.0] and mask[2][i4] is False and mask[2][i26] is False
    assert table.column("split").to_pylist() == ["train"] * 3 + ["test"]
    assert report.by_reason() == {"blank line": 1, "malformed line": 1, "duplicate": 1, "missing image": 1}
    table, _ = create_reader("disfa", str(tmp_path), intensity=True, threshold=3).read()
    assert [a[i1] for a in table.column("au").to_pylist()[:3]] == [0.0, 2.0, 5.0]
    table, _ = create_reader("disfa", str(tmp_path), threshold=3).read()
    assert [a[i1] for a in table.column("au").to_pylist()[:3]] == [0.0, 0.0, 1.0]


def test_disfa_missing_au_file_masks_that_au(tmp_path: Path) -> None:
    _disfa(tmp_path, "SN003", {}, frames=1)
    (tmp_path / "ActionUnit_Labels/SN003/SN003_au9.txt").unlink()
    table, report = create_reader("disfa", str(tmp_path)).read()
    assert table.column("au_mask").to_pylist() == [[a != 9 for a in DISFA_AUS]]
    assert report.by_reason() == {"missing AU file": 1}
    with pytest.raises(ReadError, match="SN003_au9.txt"):
        create_reader("disfa", str(tmp_path), strict=True).read()


# ----------------------------------------------------------------------- BP4D

BP4D_HEADER = "0," + ",".join(str(a) for a in range(1, 28)) + "\n"


def _bp4d_row(frame: int, values: dict) -> str:
    return f"{frame}," + ",".join(str(values.get(a, 0)) for a in range(1, 28)) + "\n"


def test_bp4d_folds_shipped() -> None:
    folds = bp4d_folds()
    assert sorted(folds) == [1, 2, 3]
    subjects = [s for f in folds.values() for s in f]
    assert len(subjects) == len(set(subjects)) == 41 == len(bp4d_subjects())


def test_bp4d_values_mask_and_fold(tmp_path: Path) -> None:
    test_subject = bp4d_folds()[1][0]
    train_subject = bp4d_folds()[2][0]
    for subj in (test_subject, train_subject):
        write(tmp_path, f"AUCoding/{subj}_T1.csv",
              BP4D_HEADER + _bp4d_row(10, {1: 1, 2: 9, 24: 1}) + _bp4d_row(11, {7: 5})
              + "12,1,1\n" + _bp4d_row(10, {}))
        touch(tmp_path, [f"Sequences/{subj}/T1/0010.jpg", f"Sequences/{subj}/T1/0011.jpg"])
    write(tmp_path, "AUCoding/badname.csv", BP4D_HEADER)
    write(tmp_path, "AUCoding/X999_T1.csv", BP4D_HEADER + _bp4d_row(1, {}))
    table, report = create_reader("bp4d", str(tmp_path), fold=1).read()
    assert table_au_ids(table) == list(BP4D_AUS)
    rows = table.to_pylist()
    assert [r["id"] for r in rows] == sorted(
        f"Sequences/{s}/T1/{f:04d}.jpg" for s in (test_subject, train_subject) for f in (10, 11))
    first = next(r for r in rows if r["id"] == f"Sequences/{test_subject}/T1/0010.jpg")
    assert first["au"] == [1.0] + [0.0] * 10 + [1.0]
    assert first["au_mask"] == [True, False] + [True] * 10
    second = next(r for r in rows if r["id"] == f"Sequences/{test_subject}/T1/0011.jpg")
    assert second["au_mask"][BP4D_AUS.index(7)] is False  # 5 is not 0/1: masked
    assert {r["split"] for r in rows if test_subject in r["id"]} == {"test"}
    assert {r["split"] for r in rows if train_subject in r["id"]} == {"train"}
    assert report.by_reason() == {"malformed line": 2, "duplicate": 2, "malformed file name": 1,
                                  "unknown subject": 1}
    with pytest.raises(ValueError, match="fold"):
        create_reader("bp4d", str(tmp_path), fold=4).read()
    table, _ = create_reader("bp4d", str(tmp_path), check_images=False).read()
    assert set(table.column("split").to_pylist()) == {"train"} and table.num_rows == 5
