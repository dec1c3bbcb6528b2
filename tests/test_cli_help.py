"""``--help`` of every command answers before any heavy import (torch, Ray, TensorFlow,
OpenCV, pyarrow, numpy are loaded after parsing), which is what keeps it well under a
second; the commands share one grammar (``--set`` overrides, ``-o/--output``)."""
import json
import subprocess
import sys

import pytest

COMMANDS = ("train", "prepare", "predict", "evaluate", "export")
HEAVY = ("torch", "ray", "tensorflow", "cv2", "pyarrow", "numpy", "matplotlib", "PIL", "mtcnn", "s3fs")

PROBE = """
import contextlib, io, json, sys
from distlm.{cmd}.__main__ import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main(["--help"])
    except SystemExit as e:
        code = e.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print(json.dumps({{"code": code, "heavy": heavy, "help": out.getvalue()}}))
"""


@pytest.fixture(scope="module")
def helps():
    res = {}
    for cmd in COMMANDS:
        out = subprocess.run([sys.executable, "-c", PROBE.format(cmd=cmd, heavy=HEAVY)],
                             capture_output=True, text=True, check=True)
        res[cmd] = json.loads(out.stdout.strip().splitlines()[-1])
    return res


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_imports_nothing_heavy(helps, cmd):
    assert helps[cmd]["code"] == 0
    assert helps[cmd]["heavy"] == [], f"{cmd} --help imported {helps[cmd]['heavy']}"


@pytest.mark.parametrize("cmd", COMMANDS)
def test_one_output_flag(helps, cmd):
    assert "-o PATH, --output PATH" in helps[cmd]["help"]


@pytest.mark.parametrize("cmd", ["train", "prepare", "evaluate"])
def test_one_override_flag(helps, cmd):
    assert "--set KEY=VALUE" in helps[cmd]["help"]


def test_positional_overrides_still_work_with_a_notice(capsys):
    from distlm.train.__main__ import parse_args

    args = parse_args(["job.yaml", "train.epochs=3", "--set", "seed=1", "-o", "/tmp/r"])
    assert args.overrides == ["train.epochs=3", "seed=1", "run.storage_path=/tmp/r"]
    assert "write --set train.epochs=3" in capsys.readouterr().err


def test_old_out_flag_still_works_with_a_notice(capsys):
    from distlm.predict.__main__ import build_parser
    from distlm.cli.grammar import output_of

    args = build_parser().parse_args(["ckpt", "img.jpg", "--out", "x.csv"])
    output_of("distlm.predict", args)
    assert args.output == "x.csv" and "write --output x.csv" in capsys.readouterr().err


def test_predict_defaults_are_the_api_defaults():
    import inspect

    from distlm.predict.__main__ import build_parser
    from distlm.predict.defaults import FRAME_STEP
    from distlm.predict.pipeline import run_pipeline
    from distlm.predict.predictor import Predictor

    args = build_parser().parse_args(["ckpt", "img.jpg", "-o", "x.csv"])
    assert args.every == FRAME_STEP == inspect.signature(Predictor).parameters["every"].default
    assert inspect.signature(run_pipeline).parameters["every"].default == FRAME_STEP
    assert args.threshold == inspect.signature(Predictor).parameters["threshold"].default
