"""Augmentation presets are names for spelled-out `AugmentSpec`s: each gives the pixels
its expansion gives, and the pixels the implementation before the spelled-out form
gave (``fixtures/augment_presets.pt``, written by ``augment_fixture.py``)."""
import dataclasses

import pytest
import torch

from distlm.config import SpecError, spec_from_dict, spec_to_dict
from distlm.config.schema import AugmentSpec, CropSpec, FlipSpec, JitterSpec
from distlm.data.loading import AUGMENT_STEPS, AUGMENTATIONS, build_augment, resolve_augment

from augment_fixture import FIXTURE, GEN_SEED, PRESETS, inputs

PINNED = torch.load(FIXTURE, weights_only=True)
#: each preset spelled out by hand as a job spec would write it
SPELLED = {
    "none": {},
    "flip": {"flip": {"p": 0.5}},
    "crop_flip": {"crop": {"padding": 4}, "flip": {"p": 0.5}},
    "crop_flip_jitter": {"crop": {"padding": 4}, "flip": {"p": 0.5},
                         "jitter": {"brightness": 0.1, "contrast": 0.1, "saturation": 0.1}},
    "strong": {"crop": {"padding": 4}, "flip": {"p": 0.5},
               "randaugment": {"ops": ["affine", "brightness", "contrast", "saturation"], "num_ops": 2,
                               "magnitude": 0.5},
               "cutout": {"size": 0.5}},
}
CLASSES = {"data": {"class_names": ["a", "b"], "image_size": 28}}


def run(aug, x):
    return resolve_augment(aug)(x, torch.Generator().manual_seed(GEN_SEED))


def test_fixture_covers_every_preset():
    assert sorted(PRESETS) == AUGMENTATIONS.list() == sorted(SPELLED)
    assert set(PINNED["expected"]) == {f"{n}/{d}" for n in PRESETS for d in inputs()}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", PRESETS)
def test_preset_gives_the_pixels_of_the_implementation_it_replaced(name, dtype):
    x = inputs()[dtype]
    expected = PINNED["expected"][f"{name}/{dtype}"]
    got = run(name, x)
    assert got.dtype == expected.dtype and torch.equal(got, expected)
    if name != "none":
        assert not torch.equal(got, x)


@pytest.mark.parametrize("name", PRESETS)
def test_preset_and_its_spelled_out_form_agree_exactly(name):
    from_spec = spec_from_dict({**CLASSES, "train": {"augment": SPELLED[name]}}).train.augment
    assert from_spec == AUGMENTATIONS.create(name)
    x = inputs()["float64"]
    assert torch.equal(run(name, x), run(from_spec, x))
    assert torch.equal(run(name, x), run(SPELLED[name], x))  # a plain mapping works too


def test_every_step_of_the_spec_has_a_builder():
    assert sorted(f.name for f in dataclasses.fields(AugmentSpec)) == AUGMENT_STEPS.list()


def test_flip_can_be_dropped_from_crop_flip():
    x = inputs()["float64"]
    no_flip = run({"crop": {"padding": 4}, "flip": {"p": 0.0}}, x)
    crop_only = run({"crop": {"padding": 4}}, x)
    assert torch.equal(no_flip, crop_only)  # the flip is the last step: its draws change nothing
    with_flip = run("crop_flip", x)
    assert not torch.equal(no_flip, with_flip)
    # crop_flip's flipped samples are the mirror images of the unflipped crops
    for i in range(x.shape[0]):
        assert torch.equal(with_flip[i], no_flip[i]) or torch.equal(with_flip[i], no_flip[i].flip(-1))


def test_strong_view_without_flip_never_mirrors():
    """A bright left part stays on the left through crop, RandAugment's colour ops and
    a flip of p=0, and is always on the right with p=1."""
    x = torch.zeros(32, 1, 12, 16, dtype=torch.float64)
    x[..., :6] = 5.0
    steps = {"crop": {"padding": 2}, "randaugment": {"ops": ["brightness", "contrast"], "num_ops": 2}}

    def left_minus_right(y):
        return y[..., :8].mean(dim=(1, 2, 3)) - y[..., 8:].mean(dim=(1, 2, 3))
    assert (left_minus_right(run(dict(steps, flip={"p": 0.0}), x)) > 0).all()
    assert (left_minus_right(run(dict(steps, flip={"p": 1.0}), x)) < 0).all()


def test_options_reach_the_ops():
    x = inputs()["float64"]
    assert torch.equal(run({"flip": {"p": 1.0}}, x), x.flip(-1))
    assert torch.equal(run({"crop": {"padding": 0}, "jitter": {"brightness": 0, "contrast": 0, "saturation": 0}}, x), x)
    shifted = run({"jitter": {"brightness": 0.3, "contrast": 0, "saturation": 0}}, x)
    delta = (shifted - x).amax(dim=(1, 2, 3))
    torch.testing.assert_close(delta, (shifted - x).amin(dim=(1, 2, 3)), rtol=0, atol=1e-12)  # one shift per sample
    assert (delta.abs() <= 0.3).all() and delta.abs().max() > 0
    cut = run({"cutout": {"size": 0.2}}, x + 10)
    zeros = (cut == 0).all(dim=1).sum(dim=(1, 2))
    assert (zeros > 0).all() and (zeros <= 4).all()  # side round(0.2 * 10) = 2


@pytest.mark.parametrize("tree,key,text", [
    ({"jiter": {}}, "train.augment.jiter", "known keys: crop, cutout, flip, jitter, randaugment"),
    ({"flip": {"prob": 0}}, "train.augment.flip.prob", "known keys: p"),
    ({"randaugment": {"ops": ["affine", "blur"]}}, "train.augment.randaugment.ops[1]",
     "unknown RandAugment op 'blur'; known: affine, brightness, contrast, saturation"),
    ("crop_flp", "train.augment", "unknown augmentation preset 'crop_flp' (did you mean 'crop_flip'?)"),
    ({"flip": {"p": "often"}}, "train.augment.flip.p", "expected float"),
    ({"flip": {"p": 1.5}}, "train.augment.flip.p", "must be in [0, 1]"),
    ({"crop": {"padding": 28}}, "train.augment.crop.padding", "must be in [0, data.image_size=28)"),
    ({"jitter": {"contrast": -0.1}}, "train.augment.jitter.contrast", "must be >= 0"),
    ({"randaugment": {"ops": []}}, "train.augment.randaugment.ops", "at least one op"),
    ({"randaugment": {"magnitude": 2}}, "train.augment.randaugment.magnitude", "must be in [0, 1]"),
    ({"cutout": {"size": -1}}, "train.augment.cutout.size", "must be in [0, 1]"),
])
def test_bad_augment_is_one_line_naming_the_key(tree, key, text):
    with pytest.raises(SpecError) as err:
        spec_from_dict({**CLASSES, "train": {"augment": tree}})
    assert err.value.key == key and text in err.value.problem
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("field", ["train.augment_unlabelled", "selflabel.strong_augment"])
def test_the_other_augment_fields_take_the_same_forms(field):
    section, leaf = field.split(".")
    spec = spec_from_dict({**CLASSES, section: {leaf: {"flip": {"p": 0}}}}, validate=False)
    assert getattr(getattr(spec, section), leaf) == AugmentSpec(flip=FlipSpec(p=0.0))
    with pytest.raises(SpecError) as err:
        spec_from_dict({**CLASSES, section: {leaf: {"flip": {"p": 2}}}}, validate=True)
    assert err.value.key == f"{field}.flip.p"


def test_spelled_out_augment_round_trips_through_the_saved_job():
    spec = spec_from_dict({**CLASSES, "train": {"augment": {"crop": {"padding": 2}, "jitter": {}}}})
    again = spec_from_dict(spec_to_dict(spec))
    assert again.train.augment == AugmentSpec(crop=CropSpec(padding=2), jitter=JitterSpec())
    assert spec_to_dict(spec)["train"]["augment"]["flip"] is None
