"""Writes ``fixtures/augment_presets.pt``: every preset's output for fixed input and
generator seeds, made by the implementation the fixture pins (see ``SOURCE``).

    python tests/data/augment_fixture.py   # from the repository root

Rerunning it after a change to the augmentations rewrites the expected tensors; the
point of the file is that it is *not* rerun, so ``test_augment_presets.py`` notices when
a preset's pixels move.
"""
from pathlib import Path

import torch

from distlm.data.loading import resolve_augment

FIXTURE = Path(__file__).parent / "fixtures" / "augment_presets.pt"
PRESETS = ("none", "flip", "crop_flip", "crop_flip_jitter", "strong")
INPUT_SEED, GEN_SEED = 11, 1234
SHAPE = (6, 3, 10, 10)
SOURCE = "distlm commit 9c48bfa (the augmentations before they were spelled out in the job spec)"


def inputs() -> dict:
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(INPUT_SEED), dtype=torch.float64)
    return {"float64": x, "float32": x.float()}


def make() -> dict:
    out = {"source": SOURCE, "input_seed": INPUT_SEED, "gen_seed": GEN_SEED, "shape": SHAPE, "expected": {}}
    for dtype, x in inputs().items():
        for name in PRESETS:
            aug = resolve_augment(name)
            out["expected"][f"{name}/{dtype}"] = aug(x, torch.Generator().manual_seed(GEN_SEED))
    return out


if __name__ == "__main__":
    torch.save(make(), FIXTURE)
    print(f"wrote {FIXTURE}")
