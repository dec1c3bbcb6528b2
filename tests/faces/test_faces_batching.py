"""mtcnn on a batch of images of different shapes (zero-padded on the bottom and right)
finds the same faces as image by image; a first image without a face does not shift
the others' boxes (the package's centred padding would)."""
from __future__ import annotations

import numpy as np
import pytest

from distlm.faces import DETECTORS
from distlm.images import synthetic as syn

skdata = pytest.importorskip("skimage.data")
pytest.importorskip("mtcnn")


def test_pad_batch_matches_single_images():
    astro = skdata.astronaut()
    images = [syn.gradient(300, 420), astro[:384], astro[:, :384], astro, syn.tile(astro[:, 100:356], 2)]
    single = DETECTORS.create("mtcnn", num_threads=1, batching="single").detect(images)
    padded = DETECTORS.create("mtcnn", num_threads=1, batching="pad").detect(images)
    assert [len(f) for f in padded] == [len(f) for f in single] == [0, 1, 1, 1, 2]
    for a, b in zip(single, padded):
        for fa, fb in zip(sorted(a, key=lambda f: f.box[0]), sorted(b, key=lambda f: f.box[0])):
            # the padded canvas shares each image's pixel grid at the origin; only the
            # pyramid's resized sizes differ by rounding, so boxes agree within 2 px
            assert np.abs(fa.box - fb.box).max() <= 2, (fa.box, fb.box)


def test_unknown_batching_named():
    with pytest.raises(ValueError, match="batching must be one of"):
        DETECTORS.create("mtcnn", num_threads=1, batching="stack")
