"""Command-line overrides: dotted keys, YAML scalars, type checks, provenance."""
from __future__ import annotations

from pathlib import Path

import pytest

from distlm.config import SpecError, load_job

BASE = """\
name: t
data:
  labelled: {format: fmnist, path: /tmp/fm}
  image_size: 28
  channels: 1
  class_names: [a, b, c]
train: {epochs: 2, batch_size: 8}
"""


@pytest.fixture()
def job(tmp_path: Path) -> str:
    path = tmp_path / "job.yaml"
    path.write_text(BASE)
    return str(path)


def test_overrides_set_typed_values(job: str) -> None:
    spec = load_job(job, ["train.epochs=3", "scaling.num_workers=2", "loss.aux=center",
                          "optim.lr=1e-4", "train.amp=true", "train.grad_clip=null",
                          "optim.betas=[0.5, 0.9]", "data.class_names=[x, y]"])
    assert spec.train.epochs == 3 and spec.scaling.num_workers == 2
    assert spec.loss.aux == "center"
    assert spec.optim.lr == pytest.approx(1e-4) and isinstance(spec.optim.lr, float)
    assert spec.train.amp is True and spec.train.grad_clip is None
    assert spec.optim.betas == (0.5, 0.9)
    assert spec.data.class_names == ["x", "y"]
    assert load_job(job).train.epochs == 2  # the file itself is untouched


def test_override_can_fill_a_null_section(job: str) -> None:
    spec = load_job(job, ["data.unlabelled.format=images", "data.unlabelled.path=/tmp/u",
                          "selflabel.enabled=true", "loss.aux=lm"])
    assert spec.data.unlabelled is not None and spec.data.unlabelled.path == "/tmp/u"


def test_override_wrong_type_names_file_key_type_and_value(job: str) -> None:
    with pytest.raises(SpecError) as info:
        load_job(job, ["train.epochs=three"])
    msg = str(info.value)
    assert job in msg and "train.epochs" in msg and "expected int" in msg and "'three'" in msg
    assert "override" in msg


def test_override_unknown_key_suggests(job: str) -> None:
    with pytest.raises(SpecError, match=r"train\.epoch.*did you mean 'epochs'"):
        load_job(job, ["train.epoch=3"])


def test_override_bad_enum_lists_allowed(job: str) -> None:
    with pytest.raises(SpecError, match=r"loss\.aux: unknown auxiliary loss 'triplet'; "
                                        r"known: center, fixmatch, island, lm, none, pseudo_label$"):
        load_job(job, ["loss.aux=triplet"])


@pytest.mark.parametrize("text", ["train.epochs", "=3", "train..epochs=3"])
def test_malformed_override(job: str, text: str) -> None:
    with pytest.raises(SpecError, match="dotted.key=value"):
        load_job(job, [text])


def test_override_through_a_scalar_is_refused(job: str) -> None:
    with pytest.raises(SpecError, match="not a section"):
        load_job(job, ["train.epochs.x=1"])


def test_override_is_checked_by_cross_field_rules(job: str) -> None:
    with pytest.raises(SpecError, match=r"train\.batch_size: 8 is not divisible by scaling\.num_workers=3"):
        load_job(job, ["scaling.num_workers=3"])
