"""The folders say the flow: prediction needs neither the trainer nor prepare, and
every checkpoint is read through ``distlm.checkpoint``."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_predict_imports_neither_train_nor_prepare():
    code = ("import sys, pkgutil, importlib, distlm.predict as p\n"
            "for m in pkgutil.iter_modules(p.__path__): importlib.import_module(f'distlm.predict.{m.name}')\n"
            "print(sorted(m for m in sys.modules if m.startswith(('distlm.train', 'distlm.prepare'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def test_checkpoints_are_read_only_through_distlm_checkpoint():
    readers = []
    for path in (ROOT / "distlm").rglob("*.py"):
        if path.name == "pretrained.py":  # a backbone's published weights (model.pretrained), not a checkpoint
            continue
        if path.parent.name != "checkpoint" and re.search(r"torch\.load\(", path.read_text()):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == [], f"torch.load outside distlm/checkpoint: {readers}"
