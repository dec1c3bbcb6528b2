"""Evaluation metrics: pure functions over count tensors (summable across workers)
and thin stateful classes on top.

Expressions: ``confusion_matrix`` -> ``accuracy`` (Acc.), ``average_accuracy``
(Avg. Acc.); ``calibration_counts`` -> ``expected_calibration_error`` (ECE, NLL);
``class_direction_stats`` (compactness and separation of the normalised embeddings
per class). AUs: ``au_counts`` (tp/fp/fn, masked labels ignored) -> ``f1_per_au``
(eq. 8) -> ``avg_small`` / ``avg_full``. Stateful: ``ExpressionMetrics``,
``CalibrationMetrics``, ``EmbeddingGeometry``, ``AUMetrics``
(``update``/``compute``/``reset``/``sync``). Reports: ``format_table1``,
``format_table2``. Details: docs/metrics.md.
"""
from distlm.metrics.au import SMALL_AUS, au_counts, avg_full, avg_small, f1_per_au, known_mask
from distlm.metrics.au_metrics import AUMetrics
from distlm.metrics.calibration import CalibrationMetrics, calibration_counts, expected_calibration_error
from distlm.metrics.confusion import accuracy, average_accuracy, confusion_matrix, per_class_accuracy
from distlm.metrics.embedding import EmbeddingGeometry, class_direction_stats
from distlm.metrics.expression import ExpressionMetrics
from distlm.metrics.state import REDUCE_OPS, CountMetric
from distlm.metrics.tables import format_table1, format_table2

__all__ = [
    "AUMetrics",
    "CalibrationMetrics",
    "CountMetric",
    "EmbeddingGeometry",
    "ExpressionMetrics",
    "REDUCE_OPS",
    "SMALL_AUS",
    "accuracy",
    "au_counts",
    "average_accuracy",
    "avg_full",
    "avg_small",
    "calibration_counts",
    "class_direction_stats",
    "confusion_matrix",
    "expected_calibration_error",
    "f1_per_au",
    "format_table1",
    "format_table2",
    "known_mask",
    "per_class_accuracy",
]
