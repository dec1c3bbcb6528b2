"""The Fashion-MNIST protocol of docs/results.md: a deterministic, disjoint split;
unlabelled labels never reach the model; the driver runs end to end."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from distlm.config import load_job
from distlm.data.loading import DomainArrays
from distlm.data.readers import read_index
from distlm.data.readers.fmnist import load_split
from distlm.telemetry.trainer import TrainerTelemetry
from distlm.data.sources import make_loader
from distlm.train.loop import Worker

ROOT = Path(__file__).resolve().parents[2]
FMNIST = "/usr/share/datasets/fashion-mnist"


@pytest.fixture(autouse=True)
def _need_fmnist():
    if not os.path.exists(os.path.join(FMNIST, "train-images-idx3-ubyte.gz")):
        pytest.fail(f"{FMNIST} missing: run `make data` (apt-get install dataset-fashion-mnist)")


@pytest.fixture
def short_test_set(monkeypatch):
    """The in-process trainer reads only the first 1,000 of the 10k test images: a full
    evaluation costs ~5 s on 2 cores, and these smoke runs (6-30 steps) only check the
    plumbing; the split test above checks that the real test set is the official 10k."""
    from distlm.data import sources as train_data
    from distlm.train import loop

    def read_memory(spec, with_unlabelled):
        return train_data.with_test_head(train_data.read_memory(spec, with_unlabelled), 1000)

    monkeypatch.setattr(loop, "read_memory", read_memory)


def _split(seed: int):
    table = read_index("fmnist", FMNIST, split="all", labels_per_class=100, seed=seed)[0]
    return {k: np.asarray(table.column(k).to_pylist()) for k in ("id", "domain", "split", "label")}


def test_split_is_deterministic_disjoint_and_leaves_test_untouched():
    a, again, other = _split(0), _split(0), _split(1)
    train = a["split"] == "train"
    lab_ids = set(a["id"][train & (a["domain"] == "labelled")])
    unl_ids = set(a["id"][train & (a["domain"] == "unlabelled")])
    assert len(lab_ids) == 1000 and len(unl_ids) == 59000 and not lab_ids & unl_ids
    assert lab_ids | unl_ids == set(a["id"][train])
    assert np.bincount(a["label"][train & (a["domain"] == "labelled")], minlength=10).tolist() == [100] * 10
    assert (a["label"][train & (a["domain"] == "unlabelled")] == -1).all()  # true labels not in the table
    assert lab_ids == set(again["id"][(again["split"] == "train") & (again["domain"] == "labelled")])
    assert lab_ids != set(other["id"][(other["split"] == "train") & (other["domain"] == "labelled")])
    _, test_labels = load_split(FMNIST, "test")
    test = a["split"] == "test"
    assert test.sum() == 10000 and (a["domain"][test] == "labelled").all()
    assert (a["label"][test] == test_labels).all()


def test_attribute_rows_carry_no_class_label_in_training():
    table = read_index("fmnist", FMNIST, split="train", labels_per_class=100, seed=0,
                       attributes="fmnist_attributes")[0]
    assert set(table.column("label").to_pylist()) == {-1}


def _with_garbage_unlabelled_labels(w: Worker, seed: int) -> None:
    u = w.memory.unlabelled
    garbage = np.random.default_rng(seed).integers(0, 10, len(u)).astype(u.labels.dtype)
    au = np.random.default_rng(seed).random(u.au.shape).astype(np.float32)
    w.memory.unlabelled = DomainArrays(u.images, garbage, au, np.ones_like(u.au_mask))
    w.loader = make_loader(w.spec, 0, 1, w.device, w.norm, w.memory, True, w.spec.train.augment,
                           w.spec.train.augment_unlabelled)


@pytest.mark.parametrize("job", ["fmnist/lm_ssl_batch.yaml", "fmnist/pseudo_label.yaml", "fmnist/attributes/lm.yaml"])
def test_unlabelled_labels_never_reach_the_model(job):
    spec = load_job(str(ROOT / "jobs" / job), ["train.epochs=1", "train.steps_per_epoch=3",
                                                "train.batch_size=64", "loss.weighting.warmup_steps=0"])
    clean, dirty = Worker(spec), Worker(spec)
    _with_garbage_unlabelled_labels(dirty, 1)
    assert not np.array_equal(clean.memory.unlabelled.labels, dirty.memory.unlabelled.labels)
    clean.run_epoch(TrainerTelemetry(False))
    dirty.run_epoch(TrainerTelemetry(False))
    assert clean.step == dirty.step == 3
    moved = False
    initial = Worker(spec).model.state_dict()
    for k, v in clean.model.state_dict().items():
        torch.testing.assert_close(dirty.model.state_dict()[k], v, rtol=0, atol=0, msg=k)
        moved |= not torch.equal(initial[k], v)
    assert moved  # training did change the weights


def test_quick_driver_runs_end_to_end(tmp_path, monkeypatch, short_test_set):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.chdir(ROOT)
    driver = importlib.import_module("fmnist_experiments")
    out = tmp_path / "results.md"
    assert driver.main(["--quick", "--no-ray", "--steps", "6", "--rows", "ce,lm_ssl_batch",
                        "--out", str(out)]) == 0
    page = out.read_text()
    assert "| CE only | Superv |" in page and "| CE + LM loss, batch centroids | SSL |" in page
    assert "--steps 6" in page
    for name in ("results-accuracy.png", "results-embedding-ce.png", "results-embedding-lm_ssl_batch.png"):
        assert (tmp_path / "figures" / name).stat().st_size > 1000
    # a second invocation reuses the stored runs instead of training again
    assert driver.main(["--quick", "--no-ray", "--steps", "6", "--rows", "ce", "--out", str(out)]) == 0
    assert "| CE only | Superv |" in out.read_text()


@pytest.mark.slow
def test_demo_runs_on_a_local_ray(ray_shared, tmp_path, capsys):
    """`make demo`'s program (``distlm.demo.main``): two TorchTrainers, here on the
    session's shared local Ray (the demo starts its own when none is running), with one
    worker each to keep CI short (2-worker Ray Train runs: tests/train/test_train_ray.py)."""
    from distlm import demo

    out = tmp_path / "demo"
    assert demo.main(["--steps", "2", "--workers", "1", "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "| CE only (1,000 labels) |" in stdout and "| LM-SSL, EMA centroids" in stdout
    for name in ("embedding-ce.png", "embedding-lm_ssl_ema.png", "training-ce.png", "results.md"):
        assert (out / name).stat().st_size > 100


def test_weight_averaged_runs_also_give_the_plain_rows(tmp_path, monkeypatch, short_test_set):
    """One run of ``ssl_ce_avg`` evaluates the average and the trained weights; the
    trained weights equal a separate ``ssl_ce`` run (training ignores the average),
    and fill ``ssl_ce`` for seeds it lacks, without training it again."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.chdir(ROOT)
    driver = importlib.import_module("fmnist_experiments")
    out = tmp_path / "ssl.md"
    common = ["--no-ray", "--steps", "10", "--eval-points", "2", "--out", str(out)]
    assert driver.main(["--rows", "ssl_ce,ssl_ce_avg", "--seeds", "0", *common]) == 0
    store = driver.load_store(str(tmp_path / "ssl.json.gz"), 10, [])
    alone, avg = store["ssl_ce"][0], store["ssl_ce_avg"][0]
    assert "derived_from" not in alone and avg["final"]["acc"] != avg["final_trained"]["acc"]
    assert alone["final"]["acc"] == avg["final_trained"]["acc"]
    page = out.read_text()
    assert "the accuracies agree: checked" in page and "| CE only (crop+flip), weight average | Superv |" in page
    assert driver.main(["--rows", "ssl_ce_avg,ssl_ce", "--seeds", "1", *common]) == 0
    store = driver.load_store(str(tmp_path / "ssl.json.gz"), 10, [])
    assert store["ssl_ce"][1]["derived_from"] == "ssl_ce_avg"
    assert store["ssl_ce"][1]["final"] == store["ssl_ce_avg"][1]["final_trained"]


def test_a_disagreeing_plain_run_is_reported():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fmnist_report import with_trained_weights

    rec = {"final": {"acc": 0.5}, "final_trained": {"acc": 0.4}, "history": {"eval": [1], "eval_step": [1]}}
    records = {"ssl_ce_avg": {0: rec, 1: rec}, "ssl_ce": {0: {"final": {"acc": 0.41}}}}
    problems = with_trained_weights(records)
    assert len(problems) == 1 and "ssl_ce seed 0" in problems[0]
    assert records["ssl_ce"][0]["final"]["acc"] == 0.41  # a real run is never replaced
    assert records["ssl_ce"][1]["final"]["acc"] == 0.4 and records["ssl_ce"][1]["history"]["eval"] == []


def test_in_process_run_reports_progress_at_each_intermediate_evaluation(short_test_set):
    from distlm.demo import apply_budget, run_in_process

    spec = apply_budget(load_job(str(ROOT / "jobs/fmnist/ce.yaml")), steps=30, seed=0, eval_every=10)
    seen = []
    rec = run_in_process(spec, eval_subset=200, progress=lambda step, total, m: seen.append((step, total, m)))
    assert [(s, t) for s, t, _ in seen] == [(10, 30), (20, 30)]  # not after the last step: that is the final
    assert all(0.0 <= m["acc"] <= 1.0 for _, _, m in seen)
    assert [m["acc"] for _, _, m in seen] == [e["acc"] for e in rec["history"]["eval"][:2]]


def test_balance_table_reads_lambda2_off_the_runs():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fmnist_report import balance_table

    held = {"final": {"acc": 0.85}, "history": {"lambda2": [0.1 * (i + 1) for i in range(3)] + [0.3] * 7}}
    fading = {"final": {"acc": 0.83}, "history": {"lambda2": [1.0, 0.8, 0.6, 0.4, 0.2, 0.1, 0.1, 0.1, 0.1, 0.05]}}
    records = {"ssl_lm_flexmatch": {0: held, 1: dict(held, final={"acc": 0.87})},
               "ssl_lm_flexmatch_lambda_auto": {0: fading}, "ssl_ce": {0: {"final": {"acc": 0.8}, "history": {}}}}
    table = balance_table(records, at=(2, 10, 20))
    lines = table.splitlines()
    assert len(lines) == 4  # header, rule, the two LM rows; CE has no λ2
    assert "| 0.200 | 0.300 | 0.300 | 86.00 | 2 |" in lines[2]
    assert "| 0.800 | 0.050 | 0.050 | 83.00 | 1 |" in lines[3]


def test_geometry_table_reads_calibration_and_margin_off_the_runs():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fmnist_report import geometry_table

    def final(ece, margin):
        return {"final": {"acc": 0.8, "ece": ece, "nll": 0.5, "emb_compactness": 0.9,
                          "emb_nearest_cos": 0.9 - margin, "emb_margin": margin}}

    records = {"ssl_ce": {0: final(0.04, 0.2), 1: final(0.06, 0.4)},
               "ssl_lm_flexmatch": {0: final(0.02, 0.6)},
               "ssl_flexmatch": {0: {"final": {"acc": 0.85}}}}  # made before the metrics existed
    lines = geometry_table(records).splitlines()
    assert len(lines) == 4  # header, rule, CE and LM; the older record is left out
    assert lines[2].startswith("| CE only") and "| 5.000 ± 1.414 |" in lines[2] and "| 0.300 ± 0.141 | 2 |" in lines[2]
    assert "| 2.000 ± – |" in lines[3] and "| 0.600 ± – | 1 |" in lines[3]
    assert geometry_table({"ssl_ce": {0: {"final": {"acc": 0.8}}}}) is None


def test_driver_snapshots_runs_and_refuses_a_foreign_snapshot(tmp_path, monkeypatch, short_test_set):
    """``--state-dir``: a snapshot per run at its evaluation points (resume itself:
    tests/train/test_snapshot.py); a snapshot of another spec stops the driver with the
    differing key; the device is recorded per run; ``--state-dir`` and ``--device``
    without ``--no-ray`` are usage errors."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.chdir(ROOT)
    driver = importlib.import_module("fmnist_experiments")
    state = tmp_path / "state"
    common = ["--no-ray", "--steps", "20", "--eval-points", "2", "--rows", "ssl_ce", "--seeds", "0",
              "--state-dir", str(state), "--device", "auto"]
    assert driver.main([*common, "--out", str(tmp_path / "a.md")]) == 0
    assert (state / "ssl_ce-s0-20" / "state.pt").stat().st_size > 1000
    expected = "cuda:0 (" if torch.cuda.is_available() else "cpu"
    assert driver.load_store(str(tmp_path / "a.json.gz"), 20, [])["ssl_ce"][0]["device"].startswith(expected)
    assert f"runs trained on: {expected}" in (tmp_path / "a.md").read_text()
    with pytest.raises(SystemExit, match=r"ssl_ce-s0-20: snapshot of a different job spec \(first difference: "
                                         r"train.augment\)"):
        driver.main([*common, "--set", "train.augment=none", "--out", str(tmp_path / "b.md")])
    for flags in (["--state-dir", str(state)], ["--device", "cuda"]):
        with pytest.raises(SystemExit) as usage:
            driver.parse_args(flags)
        assert usage.value.code == 2


def test_auto_device_is_cuda_only_when_torch_sees_one(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    driver = importlib.import_module("fmnist_experiments")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert driver.resolve_device("auto") == "cuda" and driver.resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert driver.resolve_device("auto") == "cpu" and driver.resolve_device("cuda:1") == "cuda:1"
    assert driver.device_label("cpu") == "cpu"
    old, gpu = {"final": {}}, {"final": {}, "device": "cuda:0 (X)"}
    assert driver.devices_used({"a": {0: old, 1: old}}) == "cpu"
    assert driver.devices_used({"a": {0: old}, "b": {0: gpu, 1: gpu}}) == "cpu (1 run), cuda:0 (X) (2 runs)"


def test_recipe_cost_benchmark_times_each_row_at_its_batch(monkeypatch, capsys, short_test_set):
    """``benchmarks/bench_recipes.py``: one row per recipe at the driver's batch (100
    labelled + 100 × μ unlabelled), ratio to the first row; unknown rows are a usage error."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.chdir(ROOT)
    bench = importlib.import_module("bench_recipes")
    bench.main(["--rows", "ssl_ce,ssl_lm_flexmatch_mu2_teacher", "--steps", "1", "--rounds", "1"])
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("| `")]
    assert [l.split(" | ")[2] for l in lines] == ["100", "300"]
    assert lines[0].endswith("| 1.00 |") and float(lines[1].split(" | ")[-1].rstrip(" |")) > 0
    with pytest.raises(SystemExit) as usage:
        bench.main(["--rows", "ssl_ce,nope"])
    assert usage.value.code == 2


def test_ssl_commentary_states_the_share_of_the_gap_to_all_labels_closed():
    """With the upper bound ``ssl_ce_all`` on the page, each SSL row's line says how much
    of the gap between CE on 1,000 labels and CE on all 60k it closes (the target,
    at experiment 3's augmentation and budget), measured on the row's own seeds; the
    LM-term line pairs μ = 2 + teacher with the same recipe without LM."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from fmnist_report import commentary_ssl

    def run(acc):
        return {"final": {"acc": acc}}

    records = {"ssl_ce": {0: run(0.80), 1: run(0.82), 2: run(0.60)},
               "ssl_ce_all": {0: run(0.90)},
               "ssl_lm_flexmatch_mu2_teacher": {0: run(0.86), 1: run(0.87)},
               "ssl_flexmatch_mu2_teacher": {0: run(0.85), 1: run(0.85)}}
    lines = commentary_ssl(records)
    mt = next(l for l in lines if l.startswith("- LM + FixMatch-style, FlexMatch τ, μ = 2, EMA teacher vs"))
    # gap on seeds 0-1: 0.90 - 0.81 = 9 pt; closed 0.865 - 0.81 = 5.5 pt → 61 %
    assert mt.endswith("; it closes 61 % of the gap to CE on all 60k labels (90.00 %, 1 seed).")
    assert not any("gap" in l for l in lines if l.startswith("- CE on all"))  # the bound itself: no share
    lm_term = next(l for l in lines if "μ = 2 and an EMA teacher" in l)
    assert "paired Δ +1.50 ± 0.71 pt over 2 seed(s)" in lm_term and "(beyond one std" in lm_term
    assert not any("gap" in l for l in commentary_ssl({k: v for k, v in records.items() if k != "ssl_ce_all"}))
    # CE on all labels on every seed of the row: the share is paired by seed, with its std
    records["ssl_ce_all"] = {0: run(0.90), 1: run(0.92)}
    mt = next(l for l in commentary_ssl(records) if l.startswith("- LM + FixMatch-style, FlexMatch τ, μ = 2, EMA"))
    # seed 0: 6 / 10 = 60 %; seed 1: 5 / 10 = 50 % → 55 ± 7 %
    assert mt.endswith("; paired by seed it closes 55 ± 7 % of the gap to CE on all 60k labels "
                       "(91.00 ± 1.41 % on these 2 seeds).")
    records["ssl_lm_flexmatch_mu2_teacher"] = {1: run(0.87)}   # one seed: its own share, no std
    mt = next(l for l in commentary_ssl(records) if l.startswith("- LM + FixMatch-style, FlexMatch τ, μ = 2, EMA"))
    assert mt.endswith("; paired by seed it closes 50 % of the gap to CE on all 60k labels (92.00 % on this seed).")


def test_store_round_trip_keeps_what_the_page_needs(tmp_path, monkeypatch):
    """A store is gzipped JSON plus compressed NPZ: the final metrics, evaluation curve,
    λ2, centroid movement and embeddings (float16) come back; per-step loss curves,
    which no table or figure reads, are dropped."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    driver = importlib.import_module("fmnist_experiments")
    rng = np.random.default_rng(0)
    emb = rng.standard_normal((50, 8)).astype(np.float32)
    rec = {"final": {"acc": 0.8}, "wall_s": 3.0, "train_s": 2.0, "steps": 4, "machine": "m",
           "history": {"step": [1, 2, 3, 4], "loss": [1.0, 0.9, 0.8, 0.7], "lambda2": [0.123456789] * 4,
                       "centroid_drift": [1e-3, None, 2e-4, 1e-4], "eval_step": [2, 4],
                       "eval": [{"acc": 0.7}, {"acc": 0.8}]},
           "embeddings": emb, "targets": rng.integers(0, 10, 50)}
    path = tmp_path / "s.json.gz"
    driver.save_store(str(path), 4, ["a=1"], {"ce": {0: rec}})
    assert (tmp_path / "s-ce-s0.npz").exists() and path.read_bytes()[:2] == b"\x1f\x8b"
    back = driver.load_store(str(path), 4, ["a=1"])["ce"][0]
    assert back["final"] == rec["final"] and back["history"]["eval"] == rec["history"]["eval"]
    assert "loss" not in back["history"] and back["history"]["lambda2"] == [0.12346] * 4
    assert back["history"]["centroid_drift"][1] is None
    assert back["embeddings"].dtype == np.float32
    np.testing.assert_allclose(back["embeddings"], emb, rtol=1e-3, atol=1e-3)
    assert (back["targets"] == rec["targets"]).all()
    assert driver.load_store(str(path), 5, ["a=1"]) == {}  # another budget: not these runs


def test_a_section_rewrites_only_its_part_of_the_page(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    driver = importlib.import_module("fmnist_experiments")
    begin, end = driver.BEGIN.format("x"), driver.END.format("x")
    page = f"# Title\n\nby hand\n\n{begin}\nold\n{end}\n\nafter\n"
    assert driver.splice(page, "x", "new\ntable\n") == f"# Title\n\nby hand\n\n{begin}\nnew\ntable\n{end}\n\nafter\n"
    with pytest.raises(SystemExit, match="no section 'y'"):
        driver.splice(page, "y", "new")
    out = tmp_path / "page.md"
    out.write_text(page)
    with pytest.raises(SystemExit, match="assembled from sections"):
        driver.main(["--no-ray", "--report-only", "--rows", "ce", "--out", str(out)])
