"""Face detection, choice, alignment and crop on real (astronaut) and synthetic images."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from distlm.faces import (CHOOSERS, DETECTORS, MULTIPLE, NO_FACE, OK, CropOptions, Detection,
                          crop_face, crop_faces, eye_angle)
from distlm.faces.pipeline import detect_faces
from distlm.images import synthetic as syn

skdata = pytest.importorskip("skimage.data")
ASTRONAUT_BOX = np.array([182, 64, 83, 107], np.float32)  # MTCNN's box, checked by hand


def iou(a: np.ndarray, b: np.ndarray) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    return float(inter / (a[2] * a[3] + b[2] * b[3] - inter))


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skdata.astronaut()


@pytest.fixture(scope="module")
def detectors():
    return {name: DETECTORS.create(name, num_threads=1) for name in DETECTORS.list()}


@pytest.mark.parametrize("name", DETECTORS.list())
def test_every_detector_runs_batched(detectors, name):
    images = [syn.gradient(120, 160), syn.gradient(90, 90)]
    found = detectors[name].detect(images)
    assert len(found) == 2 and all(isinstance(f, list) for f in found)
    for faces in found:
        for d in faces:
            assert d.box.shape == (4,) and d.box.dtype == np.float32


def test_unknown_detector_names_the_known_ones():
    with pytest.raises(KeyError, match="haar"):
        CropOptions(detector="dlib")


@pytest.mark.parametrize("name,min_iou", [("mtcnn", 0.8), ("haar", 0.5)])
def test_astronaut_face_found(detectors, astronaut, name, min_iou):
    [res] = crop_faces([astronaut], detectors[name], CropOptions(detector=name))
    assert res.outcome == OK and res.faces == 1
    assert iou(res.box, ASTRONAUT_BOX) > min_iou
    assert res.crop.shape == (227, 227, 3) and res.crop.dtype == np.uint8


def test_crop_is_the_face_region(detectors, astronaut):
    opts = CropOptions(detector="mtcnn", margin=0.0, size=64)
    [res] = crop_faces([astronaut], detectors["mtcnn"], opts)
    x, y, w, h = res.box
    side = max(w, h)
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    ref = cv2.resize(astronaut[y0:y0 + int(side), x0:x0 + int(side)], (64, 64), interpolation=cv2.INTER_AREA)
    assert np.abs(res.crop.astype(int) - ref.astype(int)).mean() < 3


def test_large_image_detected_downscaled_box_mapped_back(detectors, astronaut):
    big = cv2.resize(astronaut, (4096, 4096), interpolation=cv2.INTER_CUBIC)
    [res] = crop_faces([big], detectors["mtcnn"], CropOptions(detector="mtcnn", max_side=512))
    assert res.outcome == OK
    assert iou(res.box, ASTRONAUT_BOX * 8) > 0.8


def test_five_faces_multiple_and_choice(detectors, astronaut):
    face = astronaut[30:210, 140:310]
    tiled = syn.tile(face, 5)
    opts = CropOptions(detector="mtcnn")
    [found] = detect_faces([tiled], detectors["mtcnn"], opts)   # on the copy downscaled to max_side, as cropped
    assert len(found) == 5
    for rule in ("largest", "most_confident"):
        [res] = crop_faces([tiled], detectors["mtcnn"], CropOptions(detector="mtcnn", choose=rule))
        assert res.outcome == MULTIPLE and res.faces == 5
        assert res.kept == CHOOSERS.get(rule)(found)


def test_gradient_has_no_face(detectors):
    [res] = crop_faces([syn.gradient()], detectors["mtcnn"], CropOptions(detector="mtcnn"))
    assert res.outcome == NO_FACE and res.crop is None and res.kept == -1


def test_none_detector_resizes_whole_image(detectors):
    img = syn.gradient(100, 100)
    [res] = crop_faces([img], detectors["none"], CropOptions(detector="none", size=50))
    np.testing.assert_array_equal(res.crop, cv2.resize(img, (50, 50), interpolation=cv2.INTER_AREA))


def test_choosers_differ():
    small_sure = Detection(np.array([0, 0, 10, 10], np.float32), 0.99)
    big_unsure = Detection(np.array([0, 0, 50, 50], np.float32), 0.80)
    dets = [small_sure, big_unsure]
    assert CHOOSERS.get("largest")(dets) == 1
    assert CHOOSERS.get("most_confident")(dets) == 0


def test_crop_outside_image_is_black():
    img = np.full((100, 100, 3), 200, np.uint8)
    out = crop_face(img, np.array([0, 0, 50, 50], np.float32), size=100, margin=0.5)
    assert (out[:5, :5] == 0).all() and (out[60:70, 60:70] == 200).all()


def test_alignment_levels_the_eyes():
    img = np.zeros((400, 400, 3), np.uint8)
    tilt = math.radians(20)
    c = np.array([200.0, 200.0])
    left = c + 40 * np.array([-math.cos(tilt), -math.sin(tilt)])
    right = c + 40 * np.array([math.cos(tilt), math.sin(tilt)])
    for p, colour in ((left, (255, 0, 0)), (right, (0, 255, 0))):
        cv2.circle(img, (int(round(p[0])), int(round(p[1]))), 6, colour, -1)
    marks = np.array([left, right, c, c + [-20, 40], c + [20, 40]], np.float32)
    angle = eye_angle(marks)
    assert angle == pytest.approx(20, abs=1e-4)
    out = crop_face(img, np.array([120, 120, 160, 160], np.float32), size=160, margin=0.0, angle=angle)
    ys_red = np.nonzero(out[..., 0] > 128)[0].mean()
    ys_green = np.nonzero(out[..., 1] > 128)[0].mean()
    assert abs(ys_red - ys_green) < 1.0
    xs_red = np.nonzero(out[..., 0] > 128)[1].mean()
    assert xs_red < 80  # image-left eye stays on the left


def test_mtcnn_threads_pinned(detectors):
    import tensorflow as tf

    assert detectors["mtcnn"] is not None
    assert tf.config.threading.get_intra_op_parallelism_threads() == 1
    assert tf.config.threading.get_inter_op_parallelism_threads() == 1
