"""Both Fashion-MNIST experiments through the project's trainer, and the
results page.

Experiment 1 (table 1 analogue): 100 labels per class drawn with the seed, the
other 59,000 training images unlabelled, the official 10k test set; rows
``jobs/fmnist/*.yaml``. Experiment 2 (table 2 analogue): the same 1,000 images
with attribute vectors only, transfer through the ``fmnist_attributes`` formulas;
rows ``jobs/fmnist/attributes/*.yaml``. Every row runs under the same budget
(:func:`distlm.demo.apply_budget`): the same steps, 100 labelled images per step
(+100 unlabelled for SSL/transfer rows), the spec's augmentation for all.

    python benchmarks/fmnist_experiments.py --quick --no-ray          # < 10 min, 2 cores
    python benchmarks/fmnist_experiments.py --no-ray --out /tmp/full.md   # 3 seeds, all rows
    python benchmarks/fmnist_experiments.py --rows ce,lm_ssl_ema --seeds 0,1 --steps 600
    python benchmarks/fmnist_experiments.py --section paper-400 --no-ray --steps 400 ... --report-only

Default: each run is ``build_trainer(spec).fit()`` on one local Ray session
(``--workers`` workers); ``--no-ray`` trains in this process with
``distlm.train.loop.Worker`` (identical maths, 1 worker, faster on a small machine).
Finished runs are stored in ``<out>.json.gz`` (``--store``); re-running the same command
skips them. ``docs/results.md`` is assembled from sections, one per budget: ``--section
NAME`` rewrites only the text between that section's markers, from the store
``benchmarks/results/NAME.json.gz`` (the command of each section is printed in it).
With ``--no-ray --state-dir DIR`` a run in progress is snapshotted at every evaluation
point and the same command continues a stopped run from there (docs/reproduce.md).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import shlex
import sys
import time
from typing import Dict, List, Optional

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from distlm.config import load_job  # noqa: E402
from distlm.demo import apply_budget, job_path, run_in_process, run_on_ray  # noqa: E402
from distlm.checkpoint.state import CheckpointError  # noqa: E402
from fmnist_report import (EXP1, EXP2, EXP3, balance_table, commentary, commentary_ssl, figure_curves,  # noqa: E402
                           figure_embeddings, geometry_table, table1, table2, with_trained_weights)
from fmnist_rows import EMBED_PAIR, QUICK_ROWS, ROWS, parse_rows  # noqa: E402

EMBED_ROWS = {r for pair in EMBED_PAIR for r in pair}
NOTES = [
    "Notes:", "",
    "- The test set is balanced (1,000 images per class), so Avg. Acc (mean per-class accuracy) equals Acc.",
    "- With one seed (`--quick`) there is no std: a difference of a few tenths of a point is within the "
    "seed-to-seed spread seen with 3-5 seeds (about ±0.5-1.2 pt for CE on 1,000 labels, the self-label sections of "
    "`docs/results.md`), so a quick "
    "run shows that the pipeline works end to end, not which method is better.",
    "- The SSL rows use the paper's method as published: hard argmax self-labels of the unlabelled half of "
    "each batch, no threshold (Pseudo-Label: 0.95), λ2 from the magnitude rule (LM) or fixed (center, "
    "island). A check of the self-labels on this protocol found the same picture: hard self-labels are "
    "~85 % correct and mostly agree with the classifier, so the LM term adds little over CE; the self-label sections of "
    "`docs/results.md` measure trustworthy self-labels (thresholds, weak/strong views, EMA teacher) and a held λ2.",
    "- Experiment 2's attributes are a function of the class, unlike AUs: it checks that transfer through "
    "formulas works mechanically (pseudo-classes from attribute scores drive the centroids), not the "
    "psychology of EMFACS.",
    "",
]


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"1 seed, 300 steps, rows {','.join(QUICK_ROWS)}")
    ap.add_argument("--seeds", default=None, help="comma-separated seeds (default 0,1,2; quick: 0)")
    ap.add_argument("--steps", type=int, default=None, help="Adam steps per run (default 2000; quick: 300)")
    ap.add_argument("--rows", default=None, help="comma-separated rows, or all / exp1 / exp2")
    ap.add_argument("--out", default=None,
                    help="results page; figures go to <dir>/figures/ (default: docs/results.md with --section, "
                         "else runs/fmnist-results.md)")
    ap.add_argument("--section", default=None, metavar="NAME",
                    help="write only the page's section NAME (between its markers; the rest of the page is kept); "
                         f"the store defaults to benchmarks/results/NAME.json.gz")
    ap.add_argument("--store", default=None, metavar="STORE.json.gz",
                    help="the finished runs (default: benchmarks/results/<section>.json.gz with --section, "
                         "else <out without .md>.json.gz)")
    ap.add_argument("--no-ray", action="store_true", help="train in this process (one worker), not on Ray")
    ap.add_argument("--workers", type=int, default=2, help="Ray Train workers per run")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads of this process (e.g. 1 to run two drivers side by side)")
    ap.add_argument("--merge", nargs="*", default=[], metavar="STORE.json.gz",
                    help="add the finished runs of other drivers' stores (same --steps and --set) first")
    ap.add_argument("--report-only", action="store_true",
                    help="train nothing: write the page from the runs already in the store(s)")
    ap.add_argument("--eval-points", type=int, default=10, help="evaluations per run (accuracy curve)")
    ap.add_argument("--device", default="auto",
                    help="--no-ray: where each run trains and evaluates: cpu, cuda, cuda:N, or auto (cuda when "
                         "present, else cpu; GPU runs are not bit-for-bit deterministic)")
    ap.add_argument("--state-dir", default=None, metavar="DIR",
                    help="--no-ray: snapshot each run at every evaluation point under DIR/<row>-s<seed>-<steps>; "
                         "the same command continues a stopped run from its last snapshot, with the result "
                         "of an uninterrupted run")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="overrides applied to every row, e.g. train.augment=crop_flip")
    a = ap.parse_args(argv)
    if a.state_dir and not a.no_ray:
        ap.error("--state-dir needs --no-ray (runs on Ray resume from Ray Train's checkpoints)")
    if a.device != "auto" and not a.no_ray:
        ap.error("--device needs --no-ray (runs on Ray take scaling.use_gpu from --set)")
    a.out = a.out or ("docs/results.md" if a.section else os.path.join("runs", "fmnist-results.md"))
    a.seed_list = [int(s) for s in (a.seeds or ("0" if a.quick else "0,1,2")).split(",")]
    a.steps = a.steps or (300 if a.quick else 2000)
    a.row_list = parse_rows(a.rows) if a.rows else (QUICK_ROWS if a.quick else list(ROWS))
    return a


# The stores of the results page: one per budget, small and compressed (history curves
# the page does not draw are dropped, figure embeddings kept as float16).
RESULTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "results")
KEPT_HISTORY = ("step", "eval_step", "eval", "lambda2", "centroid_drift")
ROUNDED_HISTORY = ("lambda2", "centroid_drift")
BIG = ("embeddings", "targets", "centroids")


def _stem(path: str) -> str:
    """``dir/name`` of a store ``dir/name.json.gz`` or ``dir/name.json``."""
    return path[: -len(".json.gz")] if path.endswith(".json.gz") else os.path.splitext(path)[0]


def _open(path: str, mode: str):
    return gzip.open(path, mode + "t", encoding="utf-8") if path.endswith(".gz") else open(path, mode)


def load_store(path: str, steps: int, overrides: List[str]) -> Dict[str, Dict[int, dict]]:
    """Finished runs of the same budget from an earlier (interrupted) invocation.
    ``path``: ``NAME.json.gz`` (or an uncompressed ``NAME.json``); the figure rows'
    embeddings are in ``NAME-<row>-s<seed>.npz`` beside it."""
    if not os.path.exists(path):
        return {}
    with _open(path, "r") as f:
        data = json.load(f)
    if data.get("steps") != steps or data.get("set") != overrides:
        return {}
    records = {row: {int(s): r for s, r in seeds.items()} for row, seeds in data["records"].items()}
    for row, seeds in records.items():
        for seed, r in seeds.items():
            npz = f"{_stem(path)}-{row}-s{seed}.npz"
            if os.path.exists(npz):
                with np.load(npz) as z:
                    r.update({k: (z[k].astype(np.float32) if z[k].dtype == np.float16 else z[k]) for k in z.files})
    return records


def _slim(rec: dict) -> dict:
    """What the page needs of a run: no big arrays, no per-step loss curves, per-step λ2
    and centroid drift to 5 significant digits."""
    out = {k: v for k, v in rec.items() if k not in BIG}
    hist = rec.get("history")
    if isinstance(hist, dict):
        out["history"] = {k: ([float(f"{x:.5g}") if x is not None else None for x in v]
                              if k in ROUNDED_HISTORY else v)
                          for k, v in hist.items() if k in KEPT_HISTORY}
    return out


def save_store(path: str, steps: int, overrides: List[str], records) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    for row, seeds in records.items():
        for seed, r in seeds.items():
            if "embeddings" in r:
                arrays = {k: r[k] for k in BIG if r.get(k) is not None}
                arrays["embeddings"] = np.asarray(arrays["embeddings"]).astype(np.float16)
                arrays["targets"] = np.asarray(arrays["targets"]).astype(np.int16)
                np.savez_compressed(f"{_stem(path)}-{row}-s{seed}.npz", **arrays)
    slim = {row: {str(s): _slim(r) for s, r in sorted(seeds.items())} for row, seeds in records.items()}
    tmp = path + ".tmp"
    with (gzip.GzipFile(tmp, "wb", mtime=0) if path.endswith(".gz") else open(tmp, "wb")) as f:
        f.write(json.dumps({"steps": steps, "set": overrides, "records": slim}).encode())
    os.replace(tmp, path)


def resolve_device(name: str) -> str:
    """``auto``: ``cuda`` when torch sees a GPU, else ``cpu``."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def device_label(device: str) -> str:
    """What a run trained on, as stored with it: ``cpu`` or ``cuda:0 (<GPU name>)``."""
    import torch

    if not device.startswith("cuda"):
        return device
    dev = torch.device(device)
    dev = torch.device("cuda", torch.cuda.current_device()) if dev.index is None else dev
    return f"{dev} ({torch.cuda.get_device_name(dev)})"


def devices_used(records) -> str:
    """``cpu`` or a count per device over the runs shown (runs stored before devices were
    recorded ran on the CPU)."""
    from collections import Counter

    seen = Counter(r.get("device", "cpu") for seeds in records.values() for r in seeds.values()
                   if "derived_from" not in r)
    return ", ".join(f"{d} ({n} run{'s' if n > 1 else ''})" if len(seen) > 1 else d for d, n in sorted(seen.items()))


def machine() -> str:
    import torch

    return (f"{platform.node() or 'host'}: {platform.processor() or platform.machine()}, "
            f"{os.cpu_count()} CPU cores, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, torch {torch.__version__}")


def machines_used(records) -> str:
    """The machines the runs shown were trained on, as stored with each run."""
    from collections import Counter

    seen = Counter(r.get("machine", "not recorded") for seeds in records.values() for r in seeds.values()
                   if "derived_from" not in r)
    if len(seen) == 1:
        return next(iter(seen))
    return "; ".join(f"{m} ({n} run{'s' if n > 1 else ''})" for m, n in sorted(seen.items()))


BEGIN = "<!-- generated by benchmarks/fmnist_experiments.py --section {} -->"
END = "<!-- end of generated section {} -->"


def splice(page: str, section: str, body: str) -> str:
    """``page`` with the text between the markers of ``section`` replaced by ``body``."""
    begin, end = BEGIN.format(section), END.format(section)
    if begin not in page or end not in page:
        raise SystemExit(f"the page has no section {section!r}: add the two lines\n{begin}\n{end}\nwhere it goes")
    head, rest = page.split(begin, 1)
    return head + begin + "\n" + body.rstrip("\n") + "\n" + end + rest.split(end, 1)[1]


def write_page(a, records, path: str, figures: List[str], wall: float, command: str,
               mismatches: List[str] = ()) -> None:
    """The results page of ``records``; with ``--section NAME``, only the text between the
    page's markers of NAME (headings one level down), the rest of the page kept."""
    rel = lambda p: os.path.relpath(p, os.path.dirname(os.path.abspath(path)))  # noqa: E731
    exp1 = any(r in records for r in EXP1)
    exp2 = any(r in records for r in EXP2)
    exp3 = any(r in records for r in EXP3)
    avg3 = {r: m for r, m in EXP3.items() if r.endswith("_avg")}
    plain3 = {r: m for r, m in EXP3.items() if r not in avg3}
    lines = [
        "# Fashion-MNIST evidence: the table-1 and table-2 experiments through the trainer", "",
        "Generated by `benchmarks/fmnist_experiments.py` from the store `"
        + os.path.relpath(a.store_path, os.getcwd()) + "`. Command (from the repository root):", "",
        f"    {command}", "",
        f"Machine: {machines_used(records)}; runs trained on: {devices_used(records)}. Trainer path: "
        + ("in-process `distlm.train.loop.Worker` (one worker; `--no-ray`)" if a.no_ray else
           f"`build_trainer(spec).fit()` on one local Ray session, {a.workers} workers")
        + f". Sum of the runs' wall times {wall / 60:.1f} min (the cores may be shared: per-step times "
        "vary with other users' load).", "",
        "## Protocol", "",
        f"- Seeds {a.seed_list}; each seed draws its own 100 labelled images per class from the 60k training "
        "set (`labels_per_class: 100`, `labelled_subset(labels, 100, seed)`); the other 59,000 are the "
        "unlabelled pool, whose labels are replaced by -1 when read and never reach the model "
        "(`tests/benchmarks/test_fmnist_protocol.py`). The official 10k test set is untouched.",
        f"- Every row: small CNN (128-d embedding, BatchNorm), Adam lr 1e-3, cosine schedule over "
        f"{a.steps} steps in epochs of 10 steps; 100 labelled images per step for every method "
        "(+100 × `data.unlabelled_ratio` unlabelled per step for SSL/transfer rows: 100, or 200 for the "
        "μ = 2 rows); augmentation as in the job spec "
        f"(`train.augment: none`{', overrides: ' + ' '.join(a.set) if a.set else ''}). CE on all labels "
        "draws its 100 labelled images per step from all 60k.",
        "- Rows are the job specs `jobs/fmnist/<row>.yaml` and `jobs/fmnist/attributes/<row>.yaml` with "
        "only the budget overridden (`distlm.demo.apply_budget`).",
        "- Intermediate test points (curves) use the first 2,000 test images; every number in the tables "
        "is on the whole 10k test set at the last step. Std is the sample std over seeds.", ""]
    if exp1:
        lines += ["## Experiment 1: semi-supervised classification (table 1 analogue)", "",
                  "1,000 labels (100 per class) + 59,000 unlabelled images; test accuracy and mean per-class "
                  "accuracy (Avg. Acc), mean ± std over seeds; Δ is paired by seed (same labelled draw).", "",
                  table1(records), ""]
    if exp2:
        lines += ["## Experiment 2: transfer to attributes through formulas (table 2 analogue)", "",
                  "The 1,000 labelled images carry only their 8 binary attribute vectors (no class); the "
                  "formula set `fmnist_attributes` (`distlm/formulas/sets/fmnist_attributes.yaml`) maps "
                  "attributes to the 10 classes with overlaps (t-shirt ⊂ pullover ⊂ coat; sneaker ⊂ sandal, "
                  "ankle boot) and its pseudo-classes drive the centroids. F1 (%) per attribute on the test "
                  "set. **These attributes are a function of the class, unlike AUs: this checks the "
                  "mechanism, not the psychology.**", "", table2(records), ""]
    if exp3:
        lines += ["## Experiment 3: better self-labels", "",
                  "Every row uses the same weak augmentation of the labelled view (`train.augment: crop_flip`); "
                  "self-labels come from the weak view of the unlabelled images (eval-mode network), kept at "
                  "confidence ≥ τ; the FixMatch-style rows train the strong view (`strong`: crop, flip, "
                  "RandAugment-like affine/colour ops, cutout) on them. Δ is paired by seed against CE only with "
                  "the same augmentation; × CE time is the wall time per step against CE only, same run.", "",
                  table1(records, plain3, "ssl_ce"), ""]
        if any(r in records for r in avg3):
            lines += ["With a weight average (`train.weight_average: 0.99`, an EMA of the weights evaluated "
                      "instead of the last weights), paired against CE only with the same averaging. The same "
                      "runs also evaluated their trained weights: those results are the rows of the same names "
                      "above (training does not depend on the average; where a seed was also run without it, "
                      "the accuracies agree" + (": checked" if not mismatches else
                                                "; THEY DO NOT: " + "; ".join(mismatches)) + ").", "",
                      table1(records, avg3, "ssl_ce_avg"), ""]
        balance = balance_table(records, at=(300, a.steps // 2, a.steps))
        if balance:
            lines += ["λ2 (the weight of the LM term; `auto`: from the magnitudes `λ1·L_S ≈ 0.8·λ2·|L_M|`) over "
                      "training, mean over seeds:", "", balance, ""]
        geometry = geometry_table(records)
        if geometry:
            lines += ["Calibration and embedding geometry on the 10k test set at the last step (`docs/metrics.md`: "
                      "ECE, NLL of the softmax; compactness = mean cosine to the class's mean direction, "
                      "nearest-class cos between class directions, margin = their difference):", "", geometry, ""]
        lines += commentary_ssl(records) + [""]
    if figures:
        lines += ["## Figures", ""] + [f"![{os.path.basename(p)}]({rel(p)})" for p in figures] + [""]
    if exp1 or exp2:  # the notes read experiments 1 and 2; experiment 3 has its own commentary above
        lines += ["## What the numbers say", ""] + commentary(records) + [""] + NOTES
    text = "\n".join(lines)
    if a.section:
        body = "\n".join(("#" + ln if ln.startswith("#") else ln) for ln in lines[2:])
        with open(path) as f:
            text = splice(f.read(), a.section, body)
    with open(path, "w") as f:
        f.write(text)


def _progress(t0: float):
    """A progress line per intermediate evaluation (first 2,000 test images)."""
    def show(step: int, total: int, m: Dict[str, float]) -> None:
        score = f"acc {100 * m['acc']:.2f} %" if "acc" in m else f"avg F1 {100 * m.get('avg_full', float('nan')):.2f} %"
        print(f"[{time.perf_counter() - t0:6.0f}s]     step {step}/{total}: {score} (test subset)", flush=True)
    return show


def main(argv: Optional[List[str]] = None) -> int:
    a = parse_args(argv)
    a.device = resolve_device(a.device)
    out = os.path.abspath(a.out)
    if not a.section and os.path.exists(out) and BEGIN.split("{}")[0] in open(out).read():
        raise SystemExit(f"{a.out} is assembled from sections: pass --section NAME (or another --out)")
    fig_dir = os.path.join(os.path.dirname(out), "figures")
    os.makedirs(fig_dir, exist_ok=True)
    prefix = os.path.join(fig_dir, a.section or os.path.splitext(os.path.basename(out))[0])
    store = os.path.abspath(a.store or (os.path.join(RESULTS_DIR, a.section + ".json.gz") if a.section
                                        else os.path.splitext(out)[0] + ".json.gz"))
    a.store_path = store
    command = "python benchmarks/fmnist_experiments.py " + " ".join(
        shlex.quote(x) for x in (argv if argv is not None else sys.argv[1:]))
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    records = load_store(store, a.steps, a.set)  # every row kept in the store; the page shows a.row_list
    for other in a.merge:
        extra = load_store(other, a.steps, a.set)
        if not extra:
            raise SystemExit(f"{other}: no runs with --steps {a.steps} and --set {a.set}")
        for row, seeds in extra.items():
            for seed, rec in seeds.items():
                records.setdefault(row, {}).setdefault(seed, rec)
    mismatches = with_trained_weights(records)
    for m in mismatches:
        print(f"warning: {m}", file=sys.stderr)
    if a.merge:
        save_store(store, a.steps, a.set, records)
    if not a.no_ray:
        import ray

        if not ray.is_initialized():
            from distlm.ray_local import start_local
            start_local(num_cpus=max(a.workers, os.cpu_count() or 1), include_dashboard=False, log_to_driver=False)
    t0 = time.perf_counter()
    for row in a.row_list:
        for seed in a.seed_list:
            if seed in records.get(row, {}) or a.report_only:
                continue
            spec = apply_budget(load_job(job_path(ROWS[row].job), a.set), a.steps, seed,
                                eval_every=max(a.steps // a.eval_points, 1), workers=1 if a.no_ray else a.workers)
            n_embed = 3000 if (row in EMBED_ROWS and seed == a.seed_list[0]) else 0
            print(f"[{time.perf_counter() - t0:6.0f}s] {row} seed {seed} ({a.steps} steps)", flush=True)
            snap = os.path.join(a.state_dir, f"{row}-s{seed}-{a.steps}") if a.state_dir else None
            try:
                rec = (run_in_process(spec, n_embed=n_embed, progress=_progress(t0), state_dir=snap,
                                      device=a.device, log=lambda line: print("    " + line, flush=True))
                       if a.no_ray
                       else run_on_ray(spec, n_embed=n_embed))
            except CheckpointError as err:
                raise SystemExit(f"error: {err}")
            rec["device"] = device_label(a.device) if a.no_ray else "ray"
            rec["machine"] = machine()
            records.setdefault(row, {})[seed] = rec
            f = rec["final"]
            print("    " + " ".join(f"{k}={v:.4f}" for k, v in f.items() if k in ("acc", "avg_acc", "avg_full"))
                  + f" wall={rec['wall_s']:.0f}s", flush=True)
            mismatches += with_trained_weights(records)
            save_store(store, a.steps, a.set, records)
    records = {r: s for r, s in records.items() if r in a.row_list}
    wall = sum(r["wall_s"] for seeds in records.values() for r in seeds.values() if "derived_from" not in r)
    figures = [p for p in [figure_curves(records, prefix + "-accuracy.png"),
                            figure_curves(records, prefix + "-accuracy-ssl.png", EXP3)] if p]
    figures += figure_embeddings(records, prefix)
    write_page(a, records, out, figures, wall, command, mismatches)
    print(open(out).read())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
