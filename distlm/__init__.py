"""distlm: Ray-distributed large-margin semi-supervised training for facial
expressions and action units (BMVC 2019, "large margin loss for information
transfer")."""

__version__ = "0.1.0"
