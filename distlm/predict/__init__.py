"""Using trained models: :class:`Predictor` (in-process), ``python -m distlm.predict``
(Ray Data over files, folders, ``s3://`` and videos). See ``docs/predict.md``."""
from distlm.predict.bundle import Bundle, load_bundle
from distlm.predict.faces import Face, FaceFinder, to_rgb
from distlm.predict.predictor import Predictor, face_rows
from distlm.predict.results import FACE_COLUMNS, Predictions, write_table
from distlm.predict.scoring import Scorer, score_columns

__all__ = ["Bundle", "FACE_COLUMNS", "Face", "FaceFinder", "Predictions", "Predictor", "Scorer",
           "face_rows", "load_bundle", "score_columns", "to_rgb", "write_table"]
