"""Annotated copies never overwrite each other: ``x.jpg`` and ``x.png``, and the same
name in two folders, give four files, each with its own input's box."""
import os

import cv2
import numpy as np
from PIL import Image

from distlm.predict.annotate import annotate, annotated_name


def test_same_stem_and_same_name_in_two_folders_give_distinct_files(tmp_path):
    rows = []
    for k, (folder, name) in enumerate([("a", "x.jpg"), ("a", "x.png"), ("b", "x.jpg"), ("b", "x.png")]):
        path = tmp_path / folder / name
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(np.zeros((60, 80, 3), np.uint8)).save(path)
        rows.append({"input": str(path), "frame": 0, "FaceRectX": 10.0 * k, "FaceRectY": 5.0,
                     "FaceRectWidth": 8.0, "FaceRectHeight": 8.0, "expression": "happiness", "happiness": 0.9})
    out = tmp_path / "ann"
    written = annotate(rows, str(out))
    assert len(set(written)) == 4 and sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in written)
    for k, r in enumerate(rows):  # each file has the box of its own input (green at x = 10 k)
        img = cv2.imread(str(out / annotated_name(r["input"])))
        assert img[5, 10 * k, 1] > 200 and img[30, 70, 1] < 50
    assert annotated_name("/v/clip.mp4", 3) != annotated_name("/v/clip.mp4", 4)
    assert annotated_name("/a/x_jpg") != annotated_name("/a/x.jpg")
