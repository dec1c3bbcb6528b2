"""Every registry entry: forward on a tiny batch, shapes, backward, state_dict round trip."""
from __future__ import annotations

from typing import Dict

import pytest
import torch

from distlm.config import ModelSpec, spec_from_dict
from distlm.models import HEADS, MODELS, ModelOutput, create_model, list_models

# name -> (in_channels, image_size, embedding_dim or None, expected D, head); one
# entry per registry family, the heads rotated (each head is also tested on its own).
ENTRIES: Dict[str, tuple] = {
    "alexnet": (3, 227, None, 4096, "softmax"),
    "small_cnn": (1, 28, None, 128, "sigmoid"),
    "torchvision:resnet18": (3, 64, 32, 32, "linear"),
}


def test_entries_cover_the_registry() -> None:
    assert set(MODELS.list()) == {"alexnet", "small_cnn", "torchvision"}
    names = list_models()
    assert set(ENTRIES) <= set(names)
    assert len([n for n in names if n.startswith("torchvision:")]) > 20


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_forward_backward_and_state_dict(name: str) -> None:
    channels, size, dim, expected_dim, head = ENTRIES[name]
    torch.manual_seed(0)
    model = create_model(name=name, num_outputs=5, head=head, embedding_dim=dim,
                         in_channels=channels, image_size=size)
    x = torch.randn(2, channels, size, size)
    out = model(x)
    assert isinstance(out, ModelOutput)
    assert out.embedding.shape == (2, expected_dim) and model.embedding_dim == expected_dim
    assert out.logits.shape == (2, 5) and model.num_outputs == 5
    (out.logits.square().mean() + out.embedding.square().mean()).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)

    torch.manual_seed(1)
    twin = create_model(name=name, num_outputs=5, head=head, embedding_dim=dim,
                        in_channels=channels, image_size=size)
    model.eval(), twin.eval()
    with torch.no_grad():
        assert not torch.allclose(model(x).logits, twin(x).logits)
        twin.load_state_dict(model.state_dict())
        torch.testing.assert_close(twin(x).logits, model(x).logits)
        torch.testing.assert_close(twin(x).embedding, model(x).embedding)


def test_head_scores() -> None:
    logits = torch.randn(4, 3)
    assert set(HEADS.list()) == {"softmax", "sigmoid", "linear"}
    m = {h: create_model(name="small_cnn", num_outputs=3, head=h, in_channels=1, image_size=28)
         for h in HEADS.list()}
    torch.testing.assert_close(m["softmax"].scores(logits).sum(-1), torch.ones(4))
    torch.testing.assert_close(m["sigmoid"].scores(logits), torch.sigmoid(logits))
    assert torch.equal(m["linear"].scores(logits), logits)


def test_alexnet_options() -> None:
    x = torch.randn(2, 3, 227, 227)
    fc6 = create_model(name="alexnet", num_outputs=7, options={"embedding_layer": 1, "batch_norm": True})
    assert not any(n.startswith("backbone.fc.1") for n, _ in fc6.named_parameters())
    assert any("BatchNorm" in type(m).__name__ for m in fc6.modules())
    proj = create_model(name="alexnet", num_outputs=7, embedding_dim=256).eval()
    with torch.no_grad():
        assert proj(x).embedding.shape == (2, 256)
    with pytest.raises(ValueError, match="embedding_layer"):
        create_model(name="alexnet", num_outputs=7, options={"embedding_layer": 3})


def test_create_from_job_and_model_spec() -> None:
    job = spec_from_dict({"data": {"image_size": 28, "channels": 1, "class_names": list("abcd")},
                          "model": {"name": "small_cnn", "embedding_dim": 16}})
    model = create_model(job)
    assert (model.embedding_dim, model.num_outputs) == (16, 4)
    out = create_model(ModelSpec(name="small_cnn", head="linear"), num_outputs=3,
                       in_channels=1, image_size=28)(torch.zeros(1, 1, 28, 28))
    assert out.logits.shape == (1, 3) and out.embedding.shape == (1, 128)


def test_unknown_names_list_known_ones() -> None:
    with pytest.raises(KeyError, match="known: alexnet"):
        create_model(name="vgg", num_outputs=2)
    with pytest.raises(KeyError, match="resnet18"):
        create_model(name="torchvision:resnet_nope", num_outputs=2)
    with pytest.raises(KeyError, match="torchvision:<arch>"):
        create_model(name="torchvision", num_outputs=2)
    with pytest.raises(TypeError, match="num_outputs"):
        create_model(name="small_cnn")


def test_torchvision_single_channel_input() -> None:
    model = create_model(name="torchvision:resnet18", num_outputs=10, in_channels=1, image_size=28).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 28, 28)).logits.shape == (2, 10)


def test_the_training_worker_does_not_import_torchvision() -> None:
    """torchvision (~4 s per process on 2 cores, through torch._dynamo) is imported only
    when a ``torchvision:<arch>`` backbone is built, not by every Ray Train worker."""
    import subprocess
    import sys

    code = ("import sys, distlm.models, distlm.train.loop, distlm.train.driver; "
            "print('torchvision' in sys.modules); "
            "distlm.models.create_model(name='torchvision:resnet18', num_outputs=2); "
            "print('torchvision' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True"], out.stdout
