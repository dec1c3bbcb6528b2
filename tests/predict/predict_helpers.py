"""Helpers of the predictor tests (imported by name: conftest modules of several
test folders would shadow each other)."""
import numpy as np

ASTRONAUT_FACE = (182, 64, 83, 107)


def box_iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


def write_video(path: str, frames: int = 10, side: int = 320, fps: int = 5) -> str:
    """An MPEG-4 clip of the astronaut sliding right by 8 px a frame (PyAV)."""
    import av
    from skimage import data

    img = data.astronaut()
    with av.open(path, "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            crop = np.ascontiguousarray(img[40:40 + side, 60 + 8 * i:60 + 8 * i + side])
            for packet in stream.encode(av.VideoFrame.from_ndarray(crop, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def fake_bundle(kind: str = "aus"):
    """What the column code reads of a :class:`~distlm.checkpoint.bundle.Bundle`: an AU
    model (AU01, AU02, AU04, AU06, AU12 with two pseudo-emotions) or a RAF-DB-style
    expression model (``Angry``, ``happy``… spellings py-feat renames)."""
    from types import SimpleNamespace

    import torch

    from distlm.checkpoint.bundle import au_name

    if kind == "aus":
        formula = torch.tensor([[0, 0], [0, 0], [0, 1], [0.5, 0], [0.5, 0]], dtype=torch.float32)
        return SimpleNamespace(kind="aus", names=[au_name(a) for a in (1, 2, 4, 6, 12)],
                               emotions=["happiness", "sadness"], formula=formula)
    return SimpleNamespace(kind="expressions", names=["surprise", "fearful", "disgust", "happy", "sad", "Angry",
                                                      "neutral"], emotions=[], formula=None)


def fake_batch(bundle, rows, seed: int = 0):
    """A batch as the model stage hands it to the driver.

    Args:
        rows: ``(order, input, frame, outcome, n_item)`` per row (outcome ``ok`` |
            ``no_face`` | ``unreadable``).
    """
    from distlm.predict.columns import FACE_COLUMNS
    from distlm.predict.scoring import score_columns

    rng = np.random.default_rng(seed)
    n = len(rows)
    ok = np.array([r[3] == "ok" for r in rows], bool)
    out = {k: np.full(n, np.nan) for k in FACE_COLUMNS if k != "input"}
    out["order"] = np.array([r[0] for r in rows], np.int64)
    out["n_item"] = np.array([r[4] for r in rows], np.int64)
    out["input"] = np.array([r[1] for r in rows], dtype=object)
    out["frame"] = np.array([np.nan if r[3] == "unreadable" else r[2] for r in rows], np.float64)
    out["timestamp"] = out["frame"] / 5.0
    out["outcome"] = np.array([r[3] for r in rows], dtype=object)
    out["reason"] = np.array([None if r[3] == "ok" else ("no_face" if r[3] == "no_face" else "corrupt")
                              for r in rows], dtype=object)
    out["detail"] = out["reason"].copy()
    for k in ("face_id", "FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight", "FaceScore"):
        out[k][ok] = 0.0 if k == "face_id" else rng.uniform(1, 100, ok.sum())
    for name, v in score_columns(bundle, rng.random((n, len(bundle.names))).astype(np.float32)).items():
        full = np.full(n, None, dtype=object) if v.dtype == object else np.full(n, np.nan)
        full[ok] = v[ok]
        out[name] = full
    return out


def source_env():
    """The environment for subprocesses: this checkout's ``distlm`` first on the path
    (a script's own folder, not the working directory, starts ``sys.path``)."""
    import os
    from pathlib import Path

    repo = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def killed_at(k: int, module: str, *args: str, cwd):
    """Run ``python -m module args`` under ``tests/kill_at_commit.py``: SIGKILLed at its
    ``k``-th output commit; asserts it was."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    shim = Path(__file__).resolve().parents[1] / "kill_at_commit.py"
    out = subprocess.run([sys.executable, str(shim), str(k), module, *args], cwd=cwd, capture_output=True,
                         text=True, timeout=600, stdin=subprocess.DEVNULL, env=source_env())
    assert out.returncode == -signal.SIGKILL, \
        f"{module} was not killed at output commit {k} (rc {out.returncode}):\n{out.stderr[-3000:]}"
    assert "kill_at_commit: SIGKILL before renaming onto" in out.stderr
    return out
