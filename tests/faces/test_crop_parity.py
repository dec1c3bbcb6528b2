"""prepare and predict cut the same face the same way: the astronaut photo (and a 2x
upscaled copy, which detection sees downscaled) through prepare's ``FaceCropper`` and
predict's ``FaceStage`` gives the same box and the same crop bytes, for each detector,
with and without eye alignment.

predict decodes every file at full size, and so does prepare by default (``draft``
off): the crops are byte-identical. With ``draft=True`` (large JPEGs decoded reduced in
the DCT) the box is within a pixel of the reduced image and the crop is cut from the
reduced decode when the face is large enough there
(``test_draft_decode_same_box_close_crop``)."""
import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

from distlm.faces import FaceCropper
from distlm.data.image_column import decode
from distlm.predict.columns import RECT_COLUMNS
from distlm.predict.pipeline import FaceStage

skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    img = skdata.astronaut()
    paths = [str(root / "astronaut.png"), str(root / "astronaut-2x.jpg")]
    Image.fromarray(img).save(paths[0])
    Image.fromarray(img).resize((1024, 1024), Image.BICUBIC).save(paths[1], quality=95)
    return paths


@pytest.mark.parametrize("detector,align", [("mtcnn", False), ("mtcnn", True), ("haar", False), ("none", False)])
def test_prepare_and_predict_give_the_same_box_and_crop(photos, detector, align):
    crop = {"detector": detector, "size": 96, "margin": 0.1, "align": align, "max_side": 512}
    prepared = FaceCropper(crop, num_threads=1, draft=False)(pa.table({"id": ["a", "b"], "path": photos}))
    predicted = FaceStage(crop, channels=3, num_threads=1)(
        {"order": np.arange(2), "source": np.array(photos, dtype=object), "kind": np.array(["image"] * 2, dtype=object)})
    kept = prepared.column("kept").to_pylist()
    assert prepared.column("outcome").to_pylist()[0] != "no_face"
    for i in range(2):
        if kept[i] < 0:
            continue
        row = np.flatnonzero((predicted["order"] == i) & (predicted["face_id"] == kept[i]))
        assert len(row) == 1, (i, predicted["face_id"])
        j = int(row[0])
        box = np.array([predicted[k][j] for k in RECT_COLUMNS], np.float32)
        np.testing.assert_array_equal(box, np.asarray(prepared.column("box")[i].as_py(), np.float32))
        got = decode(prepared)[i]
        assert np.array_equal(predicted["crop"][j], got), f"crop {i} differs"


def test_draft_decode_same_box_close_crop(photos):
    crop = {"detector": "mtcnn", "size": 96, "margin": 0.1, "max_side": 512}
    table = pa.table({"id": ["b"], "path": photos[1:]})  # the 1024 px JPEG: decoded at 1/2
    full = FaceCropper(crop, num_threads=1, draft=False)(table)
    draft = FaceCropper(crop, num_threads=1, draft=True)(table)
    assert draft.column("outcome").to_pylist() == full.column("outcome").to_pylist() == ["ok"]
    box_full = np.asarray(full.column("box")[0].as_py())
    box_draft = np.asarray(draft.column("box")[0].as_py())
    assert np.abs(box_full - box_draft).max() <= 2 * 2, (box_full, box_draft)  # 1 px at 1/2 scale
    diff = np.abs(decode(full)[0].astype(int) - decode(draft)[0].astype(int))
    assert 0 < diff.mean() < 6, diff.mean()   # cut from the reduced decode: close, not identical
