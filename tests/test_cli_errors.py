"""Every user error of every command: one line on stderr naming the thing (and the fix),
exit status 2, no traceback. One case per command per error class (bad path, unknown
name, bad key, missing checkpoint, empty input) where the class applies."""
import importlib
import os

import pytest
import torch

from distlm.config import load_job, spec_to_dict
from distlm.models import create_model
from distlm.checkpoint.state import save_state

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE = os.path.join(REPO, "jobs", "local-smoke.yaml")
TINY = ["model.options={width: 8, norm: group}", "model.embedding_dim=16"]


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    spec = load_job(SMOKE, TINY)
    torch.manual_seed(0)
    state = {"model": create_model(spec).state_dict(), "spec": spec_to_dict(spec),
             "norm": {"mean": [0.0], "std": [1.0]}, "epoch": 1, "step": 1,
             "preprocess": {"detector": "none", "size": 28, "margin": 0.1, "align": False, "max_side": 512}}
    ckpt = save_state(str(root / "ckpt"), state)
    (root / "empty").mkdir()
    (root / "foreign.pt").write_bytes(b"not a checkpoint at all")
    (root / "img.png").write_bytes(b"\x89PNG not really")
    return {"root": str(root), "ckpt": os.path.dirname(ckpt), "empty": str(root / "empty"),
            "foreign": str(root / "foreign.pt"), "img": str(root / "img.png"), "missing": str(root / "nope")}


CASES = {
    # command, error class: (argv with {placeholders}, what the one line must name)
    ("train", "bad path"): (["{missing}.yaml"], "nope.yaml"),
    ("train", "unknown name"): ([SMOKE, "--set", "loss.aux=nosuch"], "'nosuch'"),
    ("train", "bad key"): ([SMOKE, "--set", "train.nosuch=1"], "unknown key 'nosuch'"),
    ("train", "bad model option"): ([SMOKE, "--set", "model.options={{widht: 8}}"], "'widht' not taken by model"),
    ("train", "missing checkpoint"): ([SMOKE, "--resume", "{missing}"], "--resume"),
    ("train", "empty input"): ([SMOKE, "--set", "data.labelled={{format: parquet, path: '{empty}'}}",
                                "--set", "data.test=null", "--set", "data.labels_per_class=null",
                                "--set", "data.unlabelled=null", "--set", "selflabel.enabled=false",
                                "--set", "loss.aux=none"], "no Parquet shards"),
    ("train", "raw source missing"): ([SMOKE, "--set", "data.labelled={{format: images, path: '{missing}'}}",
                                       "--set", "data.test=null", "--set", "data.labels_per_class=null",
                                       "--set", "data.unlabelled=null", "--set", "selflabel.enabled=false",
                                       "--set", "loss.aux=none"], "data.labelled: images source"),
    ("prepare", "bad path"): (["--input", "{missing}", "-o", "{root}/out"], "--input"),
    ("prepare", "unknown name"): (["--input", "{empty}", "-o", "{root}/out", "--detector", "nosuch"],
                                  "unknown face detector 'nosuch'"),
    ("prepare", "bad key"): ([SMOKE, "-o", "{root}/out", "--set", "data.nosuch=1"], "unknown key 'nosuch'"),
    ("prepare", "empty input"): (["--input", "{empty}", "-o", "{root}/out", "--detector", "none"],
                                 "no images to prepare"),
    ("predict", "bad path"): (["{ckpt}", "{missing}", "-o", "{root}/r.csv"], "input"),
    ("predict", "unknown name"): (["{ckpt}", "{img}", "-o", "{root}/r.csv", "--detector", "nosuch"], "'nosuch'"),
    ("predict", "bad key"): (["{ckpt}", "{img}", "-o", "{root}/r.xlsx"], "unknown format"),
    ("predict", "missing checkpoint"): (["{foreign}", "{img}", "-o", "{root}/r.csv"], "not a distlm checkpoint"),
    ("predict", "empty input"): (["{ckpt}", "{empty}", "-o", "{root}/r.csv"], "no images or videos found"),
    ("evaluate", "bad path"): (["{ckpt}", "{missing}.yaml"], "job spec"),
    ("evaluate", "unknown name"): (["{ckpt}", "--set", "loss.aux=nosuch"], "'nosuch'"),
    ("evaluate", "bad key"): (["{ckpt}", "--set", "data.nosuch=1"], "unknown key 'nosuch'"),
    ("evaluate", "missing checkpoint"): (["{missing}"], "checkpoint"),
    ("evaluate", "empty input"): (["{ckpt}", "--set", "data.test=null"], "no data.test"),
    ("export", "bad path"): (["{missing}", "-o", "{root}/m.onnx"], "checkpoint"),
    ("export", "unknown name"): (["{ckpt}", "-o", "{root}/m.xyz"], "unknown format"),
    ("export", "missing checkpoint"): (["{foreign}", "-o", "{root}/m.onnx"], "not a distlm checkpoint"),
}


@pytest.mark.parametrize("command,kind", list(CASES), ids=[f"{c}-{k}" for c, k in CASES])
def test_one_line_exit_2(command, kind, paths, capsys):
    argv, named = CASES[(command, kind)]
    main = importlib.import_module(f"distlm.{command}.__main__").main
    rc = main([a.format(**paths) for a in argv])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith(f"distlm.{command}: error:")]
    assert rc == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert named.format(**paths) in lines[0], lines[0]
