"""Pretrained weights: plain state_dicts load (non-strict, reported); anything else is refused."""
from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from distlm.models import create_model, load_pretrained, read_state_dict


def small(num_outputs: int = 10, seed: int = 0, **kw):
    torch.manual_seed(seed)
    return create_model(name="small_cnn", num_outputs=num_outputs, in_channels=1, image_size=28, **kw)


def test_round_trip_through_file(tmp_path: Path) -> None:
    src, dst = small(seed=0), small(seed=1)
    path = tmp_path / "w.pt"
    torch.save(src.state_dict(), path)
    report = load_pretrained(dst, str(path))
    assert report.missing == [] and report.unexpected == [] and report.mismatched == []
    for (name, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        assert torch.equal(a, b), name


def test_pretrained_via_create_model_and_checkpoint_dict(tmp_path: Path) -> None:
    src = small(seed=0)
    path = tmp_path / "ckpt.pt"
    # A trainer checkpoint: weights under "model", saved from a DDP-wrapped model.
    torch.save({"model": {f"module.{k}": v for k, v in src.state_dict().items()}, "epoch": 3}, path)
    dst = small(seed=1, pretrained=str(path))
    x = torch.randn(2, 1, 28, 28)
    src.eval(), dst.eval()
    with torch.no_grad():
        torch.testing.assert_close(dst(x).logits, src(x).logits)


def test_new_head_keeps_backbone_and_reports(tmp_path: Path) -> None:
    src, dst = small(num_outputs=10, seed=0), small(num_outputs=3, seed=1)
    state = src.state_dict()
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "w.pt"
    torch.save(state, path)
    report = load_pretrained(dst, str(path))
    assert report.mismatched == ["head.fc.bias", "head.fc.weight"]
    assert report.unexpected == ["extra.weight"] and report.missing == []
    assert torch.equal(dst.state_dict()["backbone.fc.0.weight"], state["backbone.fc.0.weight"])
    assert dst.state_dict()["head.fc.weight"].shape == (3, 128)
    assert "mismatched" in str(report)


class Foreign:
    """An arbitrary object: unpickling it would run code from this module."""

    def __init__(self) -> None:
        self.payload = "anything"


def test_foreign_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        pickle.dump({"weight": Foreign()}, fh, protocol=2)
    with pytest.raises(ValueError, match="refused") as info:
        load_pretrained(small(), str(path))
    assert "Foreign" in str(info.value) and str(path) in str(info.value)


def test_non_tensor_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.pt"
    torch.save({"lr": 0.1, "name": "x"}, path)
    with pytest.raises(ValueError, match="expected a state_dict"):
        read_state_dict(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        load_pretrained(small(), str(tmp_path / "nope.pt"))
