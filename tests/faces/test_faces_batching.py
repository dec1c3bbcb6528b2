"""mtcnn on a batch of images of different shapes finds the same faces as image by image:
exactly with same-shape groups (the default), within 4 px when padded to one canvas
(bottom/right padding; a first image without a face shifts nothing, which the
package's centred padding would)."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from distlm.faces import DETECTORS
from distlm.images import synthetic as syn

skdata = pytest.importorskip("skimage.data")
# find_spec, not importorskip: importing mtcnn loads TensorFlow into the whole session at
# collection, and TensorFlow loaded before torch's triton crashes the process
pytestmark = pytest.mark.skipif(importlib.util.find_spec("mtcnn") is None, reason="mtcnn not installed")


@pytest.mark.parametrize("batching,bound", [("shape", 0), ("pad", 4)])
def test_batch_matches_single_images(batching, bound):
    astro = skdata.astronaut()
    images = [syn.gradient(300, 420), astro[:384], astro[:, :384], astro, syn.tile(astro[:, 100:356], 2)]
    single = DETECTORS.create("mtcnn", num_threads=1, batching="single").detect(images)
    padded = DETECTORS.create("mtcnn", num_threads=1, batching=batching).detect(images)
    assert [len(f) for f in padded] == [len(f) for f in single] == [0, 1, 1, 1, 2]
    for a, b in zip(single, padded):
        for fa, fb in zip(sorted(a, key=lambda f: f.box[0]), sorted(b, key=lambda f: f.box[0])):
            # a padded canvas shares each image's pixel grid at the origin; only the
            # pyramid's resized sizes differ by rounding (3 px measured on this photo)
            assert np.abs(fa.box - fb.box).max() <= bound, (fa.box, fb.box)


def test_unknown_batching_named():
    with pytest.raises(ValueError, match="batching must be one of"):
        DETECTORS.create("mtcnn", num_threads=1, batching="stack")
