"""The predict pipeline's face stage: one detector call over every frame of a task
(same-shape photos batch), rows in input order, unreadable inputs in their place."""
import numpy as np

from distlm.faces import CropOptions
from distlm.images import synthetic as syn
from distlm.predict.pipeline import FaceStage


def test_detection_runs_once_over_the_whole_task(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(3):
        p = tmp_path / f"p{i}.png"
        p.write_bytes(syn.encode(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8), "PNG"))
        paths.append(str(p))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    sources = [paths[0], str(broken), paths[1], paths[2]]

    opts = CropOptions(detector="none", size=16, detect_batch=8)
    stage = FaceStage(opts.to_dict(), channels=3)
    calls = []
    detect = stage.finder.detector.detect
    stage.finder.detector.detect = lambda images: calls.append(len(images)) or detect(images)

    out = stage({"order": np.arange(4), "source": np.array(sources, dtype=object),
                 "kind": np.array(["image"] * 4, dtype=object)})
    assert calls == [3]
    assert list(out["order"]) == [0, 1, 2, 3]
    assert list(out["outcome"]) == ["ok", "unreadable", "ok", "ok"]
    assert out["reason"][1] == "not_an_image"
    assert out["crop"].shape == (4, 16, 16, 3) and not out["crop"][1].any()
    assert list(out["n_item"]) == [1, 1, 1, 1] and list(out["input"]) == sources
    assert np.isnan(out["frame"][1]) and list(out["frame"][[0, 2, 3]]) == [0, 0, 0]
    assert np.isnan(out["timestamp"]).all() and np.isnan(out["x_left_eye"]).all()  # images; no landmarks
