"""Cost of one SSL training step: CE only vs. CE + Pseudo-Label vs. CE + LM
(and center/island), same model, same two-domain batch, same run.

    python benchmarks/bench_step.py [--job jobs/rafdb.yaml --batch 64] [--repeats 5]

The step is the trainer's own (``distlm.train.objective.Objective`` on one forward
pass of ``cat([x_l, x_u])``, backward, Adam step). Prints images/s per variant and
the ratio to CE + Pseudo-Label. Rounds are interleaved so load drift hits every
variant alike; the best round counts.
"""
from __future__ import annotations

import argparse
import time

import torch

from distlm.config import load_job
from distlm.data.loading import Batch
from distlm.models import create_model
from distlm.train.objective import Objective
from distlm.train.optim import build_optimizer

VARIANTS = {
    "CE only": ["loss.aux=none", "selflabel.enabled=false", "data.unlabelled=null"],
    "CE + Pseudo-Label": ["loss.aux=pseudo_label", "selflabel.enabled=true"],
    "CE + LM (SSL)": ["loss.aux=lm", "selflabel.enabled=true"],
    "CE + center (SSL)": ["loss.aux=center", "selflabel.enabled=true"],
    "CE + island (SSL)": ["loss.aux=island", "selflabel.enabled=true"],
}


def make_step(args, overrides, device):
    spec = load_job(args.job, ["data.unlabelled_ratio=1.0", *overrides])
    torch.manual_seed(0)
    model = create_model(spec).to(device)
    obj = Objective(spec, spec.num_outputs, None, total_steps=1000).to(device)
    opt = build_optimizer(model, spec)
    half = args.batch // 2
    g = torch.Generator().manual_seed(0)
    size = spec.data.image_size
    x = torch.randn(args.batch, spec.data.channels, size, size, generator=g).to(device)
    batch = Batch(x_l=x[:half], y_l=torch.randint(0, spec.num_outputs, (half,), generator=g).to(device),
                  au_l=torch.zeros(half, 0, device=device), au_mask_l=torch.zeros(half, 0, dtype=torch.bool, device=device),
                  x_u=x[half:] if obj.uses_unlabelled else x[:0])
    state = {"step": 0}

    def step():
        xx = torch.cat([batch.x_l, batch.x_u])
        out = model(xx)
        res = obj(out.embedding, out.logits, batch, state["step"])
        opt.zero_grad(set_to_none=True)
        res.loss.backward()
        opt.step()
        state["step"] += 1
        if device.type == "cuda":
            torch.cuda.synchronize()
        return xx.shape[0]

    return step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--job", default="jobs/rafdb.yaml", help="job spec giving model and image size")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    device = torch.device(args.device)
    steps = {name: make_step(args, ov, device) for name, ov in VARIANTS.items()}
    for fn in steps.values():
        fn()  # warm-up
    best = {name: 0.0 for name in steps}
    for _ in range(args.rounds):
        for name, fn in steps.items():
            t0, n = time.perf_counter(), 0
            for _ in range(args.repeats):
                n += fn()
            best[name] = max(best[name], n / (time.perf_counter() - t0))
    ref = best["CE + Pseudo-Label"]
    spec = load_job(args.job)
    print(f"{spec.model.name} {spec.data.image_size}px, batch {args.batch} (half unlabelled), {device}, "
          f"torch threads {torch.get_num_threads()}")
    print("| variant | images/s | cost × CE+Pseudo-Label |\n|---|---|---|")
    for name, ips in best.items():
        print(f"| {name} | {ips:.1f} | {ref / ips:.3f} |")


if __name__ == "__main__":
    main()
