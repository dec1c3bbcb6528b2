"""Detection on a copy downscaled to max_side 640 finds the same face as at full size,
its box (mapped back to source pixels) within a few pixels, on a real face photo."""
from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest

from distlm.faces import DETECTORS, CropOptions, crop_faces

skdata = pytest.importorskip("skimage.data")
# find_spec, not importorskip: importing mtcnn loads TensorFlow into the whole session at
# collection, and TensorFlow loaded before torch's triton crashes the process
pytestmark = pytest.mark.skipif(importlib.util.find_spec("mtcnn") is None, reason="mtcnn not installed")


def test_640_default_same_face_box_within_tolerance():
    assert CropOptions().max_side == 640
    wide = skdata.astronaut()[:384]
    big = cv2.resize(wide, (1280, 960), interpolation=cv2.INTER_CUBIC)  # source pixels
    det = DETECTORS.create("mtcnn", num_threads=1)
    [small] = crop_faces([big], det, CropOptions(size=64))
    [full] = crop_faces([big], det, CropOptions(size=64, max_side=0))
    # the same (largest) face is kept; at full size min_face_size (20 px) reaches faces
    # half as small in source pixels, so full size may find extra tiny ones, never fewer
    assert 1 <= small.faces <= full.faces and small.kept == full.kept == 0
    # MTCNN's box regression moves by about a pixel of the image it runs on; at 640
    # one such pixel is 2 source pixels here, so the bound is 2 px per 640-px pixel
    assert np.abs(small.box - full.box).max() <= 2 * 2, (small.box, full.box)
