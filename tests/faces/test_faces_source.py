"""crop_from: a face is cut from the reduced decode when it is large enough there."""
from __future__ import annotations

import numpy as np
import pytest

from distlm.faces.detection import Detection
from distlm.faces.source import Source, crop_from


def _src(calls):
    full = np.full((800, 800, 3), 7, np.uint8)
    return Source(np.zeros((200, 200, 3), np.uint8), 0.25, lambda: calls.append(1) or full)


def test_large_face_cut_from_reduced_pixels():
    calls = []
    src = _src(calls)
    det = Detection(np.array([10, 10, 100, 90], np.float32), 0.9)  # square 120 px there
    pixels, got = crop_from(src, det, size=100, margin=0.1, whole_image=False)
    assert pixels is src.pixels and got is det and not calls


def test_small_face_cut_from_full_size_in_source_pixels():
    calls = []
    det = Detection(np.array([10, 20, 40, 30], np.float32), 0.9, np.ones((5, 2), np.float32))
    pixels, got = crop_from(_src(calls), det, size=100, margin=0.1, whole_image=False)
    assert calls == [1] and pixels.shape == (800, 800, 3)
    np.testing.assert_array_equal(got.box, [40, 80, 160, 120])
    np.testing.assert_array_equal(got.landmarks, np.full((5, 2), 4))


def test_reduced_needs_a_full_decoder():
    with pytest.raises(ValueError, match="full-size decoder"):
        Source(np.zeros((4, 4, 3), np.uint8), 0.5)
