"""A results CSV read with py-feat's column names finds every column py-feat code
looks up: the face box and score, the model's AUs, the emotions, frame and input.

The lists are py-feat's own (``feat/utils/__init__.py``: ``FEAT_FACEBOX_COLUMNS``,
``FEAT_EMOTION_COLUMNS``, ``FEAT_TIME_COLUMNS``; its AU detectors name AUs ``AU01``…),
written out here rather than imported from distlm so that a rename on our side fails."""
import pyarrow.csv as pacsv
import pytest

from distlm.predict.emotions import emotion_columns
from distlm.predict.parts import PartStore, assemble
from distlm.predict.schema import part_schema, results_schema
from distlm.predict.sink import PartSink

from predict_helpers import fake_batch, fake_bundle

PYFEAT_FACEBOX = ["FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight", "FaceScore"]
PYFEAT_EMOTIONS = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]
PYFEAT_AUS = ["AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU11", "AU12", "AU14", "AU15",
              "AU17", "AU20", "AU23", "AU24", "AU25", "AU26", "AU28", "AU43"]
PYFEAT_TIME = ["frame"]
OPENFACE = ["frame", "face_id", "timestamp"]


def _csv(tmp_path, bundle):
    out = str(tmp_path / "faces.csv")
    store = PartStore(out, {"checkpoint": "c"})
    sink = PartSink(store.write, part_schema(bundle), 10)
    sink.add(fake_batch(bundle, [(0, "/a.jpg", 0, "ok", 1), (1, "/v.mp4", 0, "ok", 2), (1, "/v.mp4", 10, "ok", 2)]))
    sink.close()
    assemble(store, results_schema(bundle))
    return pacsv.read_csv(out)


@pytest.mark.parametrize("kind, aus, emotions", [
    ("aus", ["AU01", "AU02", "AU04", "AU06", "AU12"], ["happiness", "sadness"]),
    ("expressions", [], PYFEAT_EMOTIONS),
])
def test_pyfeat_columns_found_in_the_csv(tmp_path, kind, aus, emotions):
    table = _csv(tmp_path, fake_bundle(kind))
    needed = PYFEAT_FACEBOX + aus + emotions + PYFEAT_TIME + ["input"]
    missing = [c for c in needed if c not in table.column_names]
    assert not missing, f"py-feat columns missing: {missing}"
    assert set(aus) <= set(PYFEAT_AUS)
    assert set(OPENFACE) <= set(table.column_names)
    df = table.to_pandas()
    assert df["input"].tolist() == ["/a.jpg", "/v.mp4", "/v.mp4"] and df["frame"].tolist() == [0, 0, 10]
    assert (df["FaceRectWidth"] > 0).all() and (df["FaceScore"] > 0).all()
    if kind == "expressions":
        assert set(df["expression"]) <= set(PYFEAT_EMOTIONS)


def test_class_names_map_to_pyfeat_names_and_clashes_keep_their_own():
    assert emotion_columns(["surprise", "fearful", "disgust", "happy", "sad", "Angry", "neutral"]) == \
        ["surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"]
    assert emotion_columns(["happy", "happiness"]) == ["happy", "happiness"]
    assert emotion_columns(["t-shirt/top", "bag"]) == ["t-shirt/top", "bag"]
