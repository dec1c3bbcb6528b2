"""``python -m distlm.predict`` (Ray Data pipeline) over a folder of good, broken and
face-less images and a video: every input accounted for; same scores as ``Predictor``."""
import json
import os

import numpy as np
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from PIL import Image
from skimage import data

import distlm
from distlm.predict.__main__ import main
from distlm.predict.columns import LANDMARK_COLUMNS, RECT_COLUMNS
from distlm.predict.parts import parts_dir
from distlm.predict.scoring import class_columns

from predict_helpers import ASTRONAUT_FACE, box_iou, write_video


@pytest.mark.slow
def test_folder_pipeline_accounts_for_every_input(rgb_checkpoint, tmp_path, capsys):
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    img = data.astronaut()
    Image.fromarray(img).save(src / "astronaut.png")
    Image.fromarray(np.ascontiguousarray(img[:, ::-1])).save(src / "sub" / "flipped.jpg", quality=95)
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(src / "noface.png")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (src / "empty.png").write_bytes(b"")
    write_video(str(src / "sub" / "clip.mp4"), frames=5)
    out, ann = str(tmp_path / "results.parquet"), str(tmp_path / "annotated")
    rc = main([rgb_checkpoint, str(src), "--out", out, "--every", "2", "--annotate", ann,
               "--address", "local", "--num-cpus", "2", "--items-per-task", "2"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["inputs"] == 6 and summary["unreadable"] == 2 and summary["no_face"] == 1
    rows = pq.read_table(out).to_pylist()
    skipped = pacsv.read_csv(summary["errors"]).to_pylist()
    inputs = {str(p) for p in src.rglob("*") if p.is_file()}
    assert {r["input"] for r in rows} | {e["input"] for e in skipped} == inputs
    reasons = {os.path.basename(e["input"]): e["reason"] for e in skipped}
    assert reasons.pop("broken.jpg") in ("truncated", "corrupt", "not_an_image")
    assert reasons == {"empty.png": "empty", "noface.png": "no_face"}
    video = sorted((r for r in rows if r["input"].endswith("clip.mp4")), key=lambda r: r["frame"])
    assert [r["frame"] for r in video] == [0, 2, 4]
    assert [r["timestamp"] for r in video] == pytest.approx([0.0, 0.4, 0.8])  # 5 fps
    [astro] = [r for r in rows if r["input"].endswith("astronaut.png")]
    assert astro["timestamp"] is None and astro["face_id"] == 0
    assert box_iou(tuple(astro[k] for k in RECT_COLUMNS), ASTRONAUT_FACE) > 0.8
    assert all(astro[k] is not None for k in LANDMARK_COLUMNS)  # MTCNN's five points
    assert astro["x_left_eye"] < astro["x_right_eye"]
    [flip] = [r for r in rows if r["input"].endswith("flipped.jpg")]
    fx, fw, ax, aw = flip["FaceRectX"], flip["FaceRectWidth"], astro["FaceRectX"], astro["FaceRectWidth"]
    assert abs((fx + fw / 2) - (512 - ax - aw / 2)) < 10
    pred = distlm.Predictor(rgb_checkpoint, device="cpu")
    [ref] = pred.predict(str(src / "astronaut.png"))
    names = class_columns(pred.bundle)
    np.testing.assert_allclose([astro[n] for n in names], [ref[n] for n in names], atol=1e-5)
    assert len(os.listdir(ann)) == 2 + 3  # two photos with a face, three sampled video frames
    assert not os.path.exists(parts_dir(out))
