"""distlm: Ray-distributed large-margin semi-supervised training for facial
expressions and action units (BMVC 2019, "large margin loss for information
transfer")."""

__version__ = "0.1.0"

__all__ = ["Predictor"]


def __getattr__(name: str):
    """Lazy ``distlm.Predictor`` (importing ``distlm`` stays light)."""
    if name == "Predictor":
        from distlm.predict import Predictor

        return Predictor
    raise AttributeError(f"module 'distlm' has no attribute {name!r}")
