"""``Predictor`` in-process: same outputs as the training module, the astronaut's face
in the right place, a video gives one row per sampled frame, foreign files refused."""
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

import distlm
from distlm.checkpoint.state import CheckpointError, load_state
from distlm.predict.scoring import class_columns
from distlm.models.forward import predict_batch

from predict_helpers import ASTRONAUT_FACE, box_iou, write_video


def test_fmnist_round_trip_matches_training_module(fmnist_worker):
    worker, path = fmnist_worker
    assert load_state(path)["preprocess"]["detector"] == "none"
    images = worker.memory.test.images[:24]
    worker.model.eval()
    ref = torch.softmax(predict_batch(worker.model, images.copy(), worker.norm, "cpu").logits, -1).numpy()
    pred = distlm.Predictor(path, device="cpu")
    rows = pred.predict(list(images))
    assert len(rows) == len(images) and not rows.errors
    got = np.array([[r[n] for n in class_columns(pred.bundle)] for r in rows])
    np.testing.assert_allclose(got, ref, atol=1e-5)
    assert [r["expression"] for r in rows] == [class_columns(pred.bundle)[i] for i in ref.argmax(1)]
    assert all((r["FaceRectX"], r["FaceRectY"], r["FaceRectWidth"], r["FaceRectHeight"]) == (0, 0, 28, 28) for r in rows)
    table = rows.to_table()
    assert table.num_rows == len(images) and table.column_names[:19] == list(distlm.predict.FACE_COLUMNS)
    assert rows[0]["x_left_eye"] is None and rows[0]["timestamp"] is None  # detector none: no landmarks


def test_astronaut_one_face_in_place(rgb_checkpoint, astronaut_file):
    pred = distlm.Predictor(rgb_checkpoint, device="cpu")
    pil = Image.open(astronaut_file)
    chw = torch.from_numpy(np.asarray(pil).transpose(2, 0, 1).copy())
    rows = pred.predict([astronaut_file, pil, chw])
    assert [r["input"] for r in rows] == [astronaut_file, "<input 1>", "<input 2>"]
    for r in rows:
        assert r["face_id"] == 0 and r["FaceScore"] > 0.9
        assert r["x_left_eye"] < r["x_right_eye"] and r["y_nose"] < r["y_mouth_left"]  # MTCNN's five points
        assert box_iou((r["FaceRectX"], r["FaceRectY"], r["FaceRectWidth"], r["FaceRectHeight"]), ASTRONAUT_FACE) > 0.8, r
        assert sum(r[n] for n in class_columns(pred.bundle)) == pytest.approx(1.0, abs=1e-5)
    assert rows[0]["expression"] == rows[1]["expression"] == rows[2]["expression"]
    np.testing.assert_allclose([rows[0][n] for n in class_columns(pred.bundle)], [rows[2][n] for n in class_columns(pred.bundle)],
                               atol=1e-6)


def test_video_one_row_per_sampled_frame(rgb_checkpoint, tmp_path):
    video = write_video(str(tmp_path / "clip.mp4"), frames=7)
    rows = distlm.Predictor(rgb_checkpoint, device="cpu", every=3).predict(str(video))
    assert [(r["frame"], r["face_id"]) for r in rows] == [(0, 0), (3, 0), (6, 0)]
    assert [r["timestamp"] for r in rows] == pytest.approx([0.0, 0.6, 1.2])  # 5 fps
    xs = [r["FaceRectX"] for r in rows]
    assert xs[0] > xs[1] > xs[2]  # the face moves left as the window slides right


def test_bad_inputs_are_listed_not_raised(rgb_checkpoint, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    blank = np.full((120, 160, 3), 90, np.uint8)
    rows = distlm.Predictor(rgb_checkpoint, device="cpu").predict([str(broken), blank])
    assert len(rows) == 0
    assert [e["input"] for e in rows.errors] == [str(broken)] and rows.errors[0]["reason"]
    assert rows.no_face == [{"input": "<input 1>", "frame": 0, "timestamp": None}]
    assert rows.counts["no_face"] == 1 and rows.counts["unreadable"] == 1


def test_foreign_checkpoints_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    bad = tmp_path / "evil.pt"
    with open(bad, "wb") as fh:
        pickle.dump({"model": Evil()}, fh)
    with pytest.raises(CheckpointError, match="not a distlm checkpoint"):
        distlm.Predictor(str(bad))
    plain = tmp_path / "plain.pt"
    torch.save({"weights": torch.zeros(2)}, plain)
    with pytest.raises(CheckpointError, match="no 'distlm-checkpoint' marker"):
        distlm.Predictor(str(plain))
    from distlm.predict.__main__ import main

    assert main([str(plain), str(tmp_path), "--out", str(tmp_path / "r.csv")]) == 2
