"""``data.crop`` and ``data.cache``: typed, checked, and mapped onto the crop stage."""
from __future__ import annotations

import os

import pytest

from distlm.config import SpecError, load_job
from distlm.data.sources import raw_sources
from distlm.train.crop_stage import cache_root, prepare_options, source_folder

CARD = "jobs/emotionet.yaml"


@pytest.mark.parametrize("override, message", [
    ("data.crop.detector=nope", "data.crop.detector: unknown face detector 'nope'"),
    ("data.crop.maxactors=3", "did you mean 'max_actors'"),
    ("data.crop.min_actors=0", "data.crop.min_actors: must be >= 1"),
    ("data.crop.max_actors=0", "data.crop.max_actors: must be >= data.crop.min_actors (1)"),
    ("data.crop.gpus_per_actor=-1", "data.crop.gpus_per_actor: must be >= 0"),
    ("data.crop.shard_size=yes", "data.crop.shard_size"),
])
def test_bad_crop_settings_name_the_key(override, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_job(CARD, [override])


def test_the_card_crops_its_raw_sources_into_the_run_storage_by_default():
    spec = load_job(CARD, ["data.crop.max_actors=6", "data.crop.gpus_per_actor=0.5"])
    assert [side for side, _ in raw_sources(spec)] == ["labelled", "unlabelled", "test"]
    assert cache_root(spec) == os.path.abspath("runs/crops")
    opts = prepare_options(spec)
    assert (opts.crop.size, opts.crop.detector, opts.crop.max_side) == (227, "mtcnn", 640)
    assert (opts.actors, opts.max_actors, opts.gpus_per_actor) == (1, 6, 0.5)
    s3 = load_job(CARD, ["data.cache=s3://bucket/crops", "data.crop.max_actors=6"])
    assert cache_root(s3) == "s3://bucket/crops"


def test_one_cache_folder_per_source_and_crop_settings():
    spec = load_job(CARD, ["data.crop.max_actors=2"])
    lab = source_folder(spec, "labelled", spec.data.labelled)
    assert lab == source_folder(load_job(CARD, ["data.crop.max_actors=2"]), "labelled", spec.data.labelled)
    assert lab.startswith(os.path.abspath("runs/crops") + "/emotionet-")
    assert lab != source_folder(spec, "test", spec.data.test)                       # another reader call
    margin = load_job(CARD, ["data.crop.max_actors=2", "data.crop.margin=0.3"])
    assert source_folder(margin, "labelled", margin.data.labelled) != lab            # another crop
    draft = load_job(CARD, ["data.crop.max_actors=2", "data.crop.draft=true"])
    assert prepare_options(draft).draft and source_folder(draft, "labelled", draft.data.labelled) != lab
    actors = load_job(CARD, ["data.crop.max_actors=4", "data.crop.shard_size=64"])
    assert source_folder(actors, "labelled", actors.data.labelled) == lab            # layout only: same crops
