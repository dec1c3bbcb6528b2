"""The rows of the two Fashion-MNIST experiments: each row is a job spec.

Experiment 1 (table 1 analogue): ``jobs/fmnist/<row>.yaml``.
Experiment 2 (table 2 analogue): ``jobs/fmnist/attributes/<row without attr_>.yaml``.
"""
from __future__ import annotations

from typing import Dict, List, NamedTuple


class Row(NamedTuple):
    job: str          # path under jobs/
    label: str        # the table's method column
    framework: str    # Superv | SSL | Sv | T


EXP1: Dict[str, Row] = {
    "ce": Row("fmnist/ce.yaml", "CE only", "Superv"),
    "ce_center": Row("fmnist/ce_center.yaml", "CE + center loss", "Superv"),
    "ce_island": Row("fmnist/ce_island.yaml", "CE + island loss", "Superv"),
    "ce_lm": Row("fmnist/ce_lm.yaml", "CE + LM loss", "Superv"),
    "pseudo_label": Row("fmnist/pseudo_label.yaml", "Pseudo-Label", "SSL"),
    "center_ssl": Row("fmnist/center_ssl.yaml", "CE + center loss", "SSL"),
    "island_ssl": Row("fmnist/island_ssl.yaml", "CE + island loss", "SSL"),
    "lm_ssl_batch": Row("fmnist/lm_ssl_batch.yaml", "CE + LM loss, batch centroids", "SSL"),
    "lm_ssl_ema": Row("fmnist/lm_ssl_ema.yaml", "CE + LM loss, EMA centroids", "SSL"),
    "ce_all": Row("fmnist/ce_all.yaml", "CE on all 60,000 labels (upper bound)", "Superv"),
}
EXP2: Dict[str, Row] = {
    "attr_bce": Row("fmnist/attributes/bce.yaml", "BCE only", "Sv"),
    "attr_center": Row("fmnist/attributes/center.yaml", "BCE + center loss", "T."),
    "attr_island": Row("fmnist/attributes/island.yaml", "BCE + island loss", "T."),
    "attr_lm": Row("fmnist/attributes/lm.yaml", "BCE + LM loss", "T."),
    "attr_lm_soft": Row("fmnist/attributes/lm_soft.yaml", "BCE + LM loss, score-weighted pseudo-classes ≥ 0.75", "T."),
}
# Experiment 3, better self-labels: every row with the same weak augmentation (crop + flip);
# paired against ssl_ce. Experiment 3: ``jobs/fmnist/ssl/<row without ssl_>.yaml``.
EXP3: Dict[str, Row] = {
    "ssl_ce": Row("fmnist/ssl/ce.yaml", "CE only (crop+flip)", "Superv"),
    "ssl_ce_all": Row("fmnist/ssl/ce_all.yaml", "CE on all 60,000 labels (crop+flip, upper bound)", "Superv"),
    "ssl_pseudo_label": Row("fmnist/ssl/pseudo_label.yaml", "Pseudo-Label, τ 0.95", "SSL"),
    "ssl_fixmatch": Row("fmnist/ssl/fixmatch.yaml", "FixMatch-style (no LM)", "SSL"),
    "ssl_lm_strong": Row("fmnist/ssl/lm_strong.yaml", "LM, weak/strong views, τ 0.95", "SSL"),
    "ssl_lm_fixmatch": Row("fmnist/ssl/lm_fixmatch.yaml", "LM + FixMatch-style", "SSL"),
    "ssl_lm_flexmatch": Row("fmnist/ssl/lm_flexmatch.yaml", "LM + FixMatch-style, FlexMatch τ", "SSL"),
    "ssl_lm_teacher": Row("fmnist/ssl/lm_teacher.yaml", "LM + FixMatch-style, EMA teacher", "SSL"),
    "ssl_lm_flexmatch_soft": Row("fmnist/ssl/lm_flexmatch_soft.yaml",
                                 "LM + FixMatch-style, FlexMatch τ, confidence-weighted centroids", "SSL"),
    "ssl_lm_flexmatch_labelled": Row("fmnist/ssl/lm_flexmatch_labelled.yaml",
                                     "LM + FixMatch-style, FlexMatch τ, labelled-only centroids", "SSL"),
    "ssl_lm_flexmatch_align": Row("fmnist/ssl/lm_flexmatch_align.yaml",
                                  "LM + FixMatch-style, FlexMatch τ, distribution alignment", "SSL"),
    "ssl_lm_flexmatch_lambda_auto": Row("fmnist/ssl/lm_flexmatch_lambda_auto.yaml",
                                        "LM + FixMatch-style, FlexMatch τ, λ2 recomputed every step", "SSL"),
    "ssl_lm_flexmatch_lambda_fixed": Row("fmnist/ssl/lm_flexmatch_lambda_fixed.yaml",
                                         "LM + FixMatch-style, FlexMatch τ, fixed λ2 = 1", "SSL"),
    "ssl_flexmatch": Row("fmnist/ssl/flexmatch.yaml", "FixMatch-style, FlexMatch τ (no LM)", "SSL"),
    "ssl_lm_flexmatch_nearest": Row("fmnist/ssl/lm_flexmatch_nearest.yaml",
                                    "LM (nearest-class push) + FixMatch-style, FlexMatch τ", "SSL"),
    "ssl_lm_flexmatch_mu2": Row("fmnist/ssl/lm_flexmatch_mu2.yaml", "LM + FixMatch-style, FlexMatch τ, μ = 2", "SSL"),
    "ssl_lm_flexmatch_mu2_teacher": Row("fmnist/ssl/lm_flexmatch_mu2_teacher.yaml",
                                        "LM + FixMatch-style, FlexMatch τ, μ = 2, EMA teacher", "SSL"),
    "ssl_flexmatch_mu2_teacher": Row("fmnist/ssl/flexmatch_mu2_teacher.yaml",
                                     "FixMatch-style, FlexMatch τ, μ = 2, EMA teacher (no LM)", "SSL"),
    "ssl_lm_freematch_mu2_teacher": Row("fmnist/ssl/lm_freematch_mu2_teacher.yaml",
                                        "LM + FixMatch-style, FreeMatch τ, μ = 2, EMA teacher", "SSL"),
    "ssl_lm_nearest_flexmatch_mu2_teacher": Row("fmnist/ssl/lm_nearest_flexmatch_mu2_teacher.yaml",
                                                "LM (nearest-class push) + FixMatch-style, FlexMatch τ, μ = 2, EMA teacher",
                                                "SSL"),
    "ssl_center_flexmatch_mu2_teacher": Row("fmnist/ssl/center_flexmatch_mu2_teacher.yaml",
                                            "center + FixMatch-style, FlexMatch τ, μ = 2, EMA teacher", "SSL"),
    "ssl_island_flexmatch_mu2_teacher": Row("fmnist/ssl/island_flexmatch_mu2_teacher.yaml",
                                            "island + FixMatch-style, FlexMatch τ, μ = 2, EMA teacher", "SSL"),
    "ssl_ce_avg": Row("fmnist/ssl/ce_avg.yaml", "CE only (crop+flip), weight average", "Superv"),
    "ssl_lm_flexmatch_avg": Row("fmnist/ssl/lm_flexmatch_avg.yaml", "LM + FixMatch-style, FlexMatch τ, weight average",
                                "SSL"),
}
# A weight-averaged row's runs also evaluate the trained weights (``final_trained``);
# training does not depend on the average, so they are runs of the row named here.
AVERAGED: Dict[str, str] = {"ssl_ce_avg": "ssl_ce", "ssl_lm_flexmatch_avg": "ssl_lm_flexmatch"}
ROWS: Dict[str, Row] = {**EXP1, **EXP2, **EXP3}
QUICK_ROWS: List[str] = ["ce", "lm_ssl_batch", "lm_ssl_ema", "ce_all", "attr_bce", "attr_lm"]
# the embedding figure (fig. 2a analogue) compares these two rows (first present of each)
EMBED_PAIR = (("ce",), ("lm_ssl_ema", "lm_ssl_batch"))


def parse_rows(text: str) -> List[str]:
    """``"ce,lm_ssl_batch"`` / ``"all"`` / ``"exp1"`` / ``"exp2"`` / ``"exp3"`` → row names, checked."""
    if text in ("all", ""):
        return list(ROWS)
    groups = {"exp1": EXP1, "exp2": EXP2, "exp3": EXP3}
    if text in groups:
        return list(groups[text])
    rows = [r.strip() for r in text.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        raise SystemExit(f"unknown rows {unknown}; known: {', '.join(ROWS)} (or all, exp1, exp2, exp3)")
    return rows
