"""The package runs on its runtime dependencies alone: in a fresh virtual environment
that sees this one's packages except those only the ``dev`` extra brings (scikit-learn,
moto, scikit-image, jsonschema, ... are made unimportable), every command module
imports, answers ``--help``, and ``evaluate`` writes its table and figures."""
import importlib.metadata as md
import os
import re
import subprocess
import sys
import sysconfig
import tomllib

import pytest
import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = ("train", "prepare", "predict", "evaluate", "export")
WORKERS = ("distlm.train.driver", "distlm.prepare.runner", "distlm.predict.pipeline", "distlm.evaluate.run",
           "distlm.export.onnx", "distlm.demo")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def dev_only_modules():
    """Top-level modules whose every distribution is in the dev extra and not a runtime dependency."""
    with open(os.path.join(REPO, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    runtime |= {_name(r) for extra, reqs in project["optional-dependencies"].items() if extra != "dev" for r in reqs}
    dev = {_name(r) for r in project["optional-dependencies"]["dev"]} - runtime
    blocked = {mod for mod, dists in md.packages_distributions().items()
               if dists and all(d.lower().replace("_", "-") in dev for d in dists)}
    assert {"sklearn", "moto", "skimage", "jsonschema", "pytest"} <= blocked, blocked
    return sorted(blocked)


BLOCKER = '''
import sys
BLOCKED = set({blocked!r})
class _DevOnly:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{{name}} is only in the dev extra", name=name)
        return None
sys.meta_path.insert(0, _DevOnly())
'''


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory):
    root = tmp_path_factory.mktemp("runtime-venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    py = root / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (root / site / "_distlm_dev_blocker.py").write_text(BLOCKER.format(blocked=dev_only_modules()))
    ours = sysconfig.get_paths()["purelib"]
    (root / site / "distlm_runtime.pth").write_text(f"{ours}\n{REPO}\nimport _distlm_dev_blocker\n")
    probe = subprocess.run([str(py), "-c", "import sklearn"], capture_output=True, text=True)
    assert probe.returncode != 0 and "only in the dev extra" in probe.stderr
    return str(py)


def test_every_command_imports_and_answers_help(runtime_python):
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in WORKERS)
    subprocess.run([runtime_python, "-c", code], check=True, cwd=REPO)
    for cmd in COMMANDS:
        out = subprocess.run([runtime_python, "-m", f"distlm.{cmd}", "--help"], capture_output=True, text=True,
                             cwd=REPO)
        assert out.returncode == 0 and "usage:" in out.stdout, out.stderr


def test_evaluate_writes_its_table_and_figures(runtime_python, tmp_path):
    from distlm.config import load_job, spec_to_dict
    from distlm.models import create_model
    from distlm.checkpoint.state import save_state

    spec = load_job(os.path.join(REPO, "jobs", "local-smoke.yaml"),
                    ["model.options={width: 8, norm: group}", "model.embedding_dim=16"])
    torch.manual_seed(0)
    ckpt = save_state(str(tmp_path / "ckpt"), {"model": create_model(spec).state_dict(), "spec": spec_to_dict(spec),
                                               "norm": {"mean": [72.9], "std": [90.0]}, "epoch": 1, "step": 1})
    out = subprocess.run([runtime_python, "-m", "distlm.evaluate", os.path.dirname(ckpt), "-o", str(tmp_path / "ev"),
                          "--device", "cpu"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    assert {"metrics.json", "confusion.png", "embedding.png", "training.png"} <= set(os.listdir(tmp_path / "ev"))
