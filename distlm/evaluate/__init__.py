"""Evaluation of trained checkpoints: ``python -m distlm.evaluate``."""
