"""Using trained models: :class:`Predictor` (in-process), ``python -m distlm.predict``
(Ray Data over files, folders, ``s3://`` and videos). See ``docs/predict.md``."""
from distlm.lazy import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "Bundle": "distlm.checkpoint.bundle",
    "load_bundle": "distlm.checkpoint.bundle",
    "Face": "distlm.predict.faces",
    "FaceFinder": "distlm.predict.faces",
    "to_rgb": "distlm.predict.faces",
    "Predictor": "distlm.predict.predictor",
    "predict_to_file": "distlm.predict.to_file",
    "face_rows": "distlm.predict.predictor",
    "FACE_COLUMNS": "distlm.predict.results",
    "Predictions": "distlm.predict.results",
    "write_table": "distlm.predict.results",
    "Scorer": "distlm.predict.scoring",
    "score_columns": "distlm.predict.scoring",
})
