"""FormulaSet forward values, weights, gradients, argmax and shape checks."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from distlm.formulas import FormulaError, load_formulas

EMOTIONET_AUS = [1, 2, 4, 5, 6, 9, 12, 17, 20, 25, 26, 43]


def test_forward_is_the_mean_of_each_emotions_aus() -> None:
    fs = load_formulas("emfacs", aus=EMOTIONET_AUS)
    # score of AU k is its column position/10: AU1=.1, AU2=.2, AU4=.3, AU5=.4, AU6=.5,
    # AU9=.6, AU12=.7, AU17=.8, AU20=.9, AU25=1.0, AU26=1.1, AU43=1.2
    a = torch.tensor([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2], [0.0] * 12])
    a[1, EMOTIONET_AUS.index(9)] = 2.0  # only disgust's AU in row 2
    expected = torch.tensor(
        [
            # happiness (.5+.7)/2, sadness (.1+.3)/2, surprise (.1+.2+.4+1.1)/4,
            # fear (.1+.2+.3+.4+.9+1.1)/6, anger (.3+.4)/2, disgust .6
            [0.6, 0.2, 0.45, 0.5, 0.35, 0.6],
            [0.0, 0.0, 0.0, 0.0, 0.0, 2.0],
        ]
    )
    assert torch.allclose(fs(a), expected, atol=1e-6)
    assert fs.assign(a).tolist() == [0, 5]  # happiness/disgust tie in row 1 -> first


def test_column_order_follows_aus_argument(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("emotions:\n  a: [6, 12]\n  b: [1]\n")
    fs = load_formulas(path, aus=[12, 1, 6])
    assert fs.au_ids == [12, 1, 6]
    out = fs(torch.tensor([[10.0, 3.0, 2.0]]))  # AU12=10, AU1=3, AU6=2
    assert out.tolist() == [[6.0, 3.0]]


def test_weighted_formula_is_a_weighted_mean(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("emotions:\n  a: {aus: {6: 3, 12: 1}}\n  b: {aus: {1: 1.0, 6: 1.0, 12: 2.0}}\n")
    fs = load_formulas(path, aus=[1, 6, 12])
    assert fs.weights("a") == {6: 0.75, 12: 0.25}
    a = torch.tensor([[4.0, 8.0, 16.0]])
    # a: (3*8 + 1*16)/4 = 10; b: (4 + 8 + 2*16)/4 = 11
    assert torch.allclose(fs(a), torch.tensor([[10.0, 11.0]]))


def test_restriction_renormalises_the_remaining_weights(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("emotions:\n  a: {aus: {6: 3, 12: 1, 15: 4}}\n")
    fs = load_formulas(path, aus=[6, 12])
    assert fs.weights("a") == {6: 0.75, 12: 0.25}


def test_gradcheck_float64() -> None:
    fs = load_formulas("emfacs", aus=EMOTIONET_AUS)
    a = torch.rand(3, 12, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fs, (a,))
    fs.double()
    assert fs.matrix.dtype == torch.float64
    assert torch.autograd.gradcheck(fs, (a,))


def test_gradient_is_the_matrix() -> None:
    fs = load_formulas("du2014")
    a = torch.zeros(1, len(fs.au_ids), requires_grad=True)
    fs(a)[0, fs.emotions.index("sad")].backward()
    grad = dict(zip(fs.au_ids, a.grad[0].tolist()))
    assert grad[4] == pytest.approx(0.5) and grad[15] == pytest.approx(0.5)
    assert sum(abs(v) for k, v in grad.items() if k not in (4, 15)) == 0


def test_wrong_input_shape_is_a_clear_error() -> None:
    fs = load_formulas("emfacs", aus=EMOTIONET_AUS)
    with pytest.raises(ValueError, match=r"\(B, 12\)"):
        fs(torch.zeros(2, 11))
    with pytest.raises(ValueError, match="shape"):
        fs(torch.zeros(12))


def test_unknown_emotion_lookup() -> None:
    fs = load_formulas("emfacs")
    with pytest.raises(FormulaError, match="'joy'.*happiness"):
        fs.aus("joy")


def test_buffer_moves_with_the_module() -> None:
    fs = load_formulas("emfacs").to(torch.float64)
    assert fs.matrix.dtype == torch.float64
    assert "weight" in dict(fs.named_buffers())
    assert list(fs.parameters()) == []  # the formulas are fixed, not learned


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_forward_on_cuda() -> None:
    cpu = load_formulas("emfacs", aus=EMOTIONET_AUS)
    gpu = load_formulas("emfacs", aus=EMOTIONET_AUS).cuda()
    a = torch.rand(4, 12)
    out = gpu(a.cuda())
    assert out.device.type == "cuda" and gpu.matrix.device.type == "cuda"
    assert torch.allclose(out.cpu(), cpu(a), atol=1e-6)
    assert torch.equal(gpu.assign(a.cuda()).cpu(), cpu.assign(a))
