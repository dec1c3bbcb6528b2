"""docs/telemetry.md (and the name table of docs/deploy.md) list exactly the metrics
that distlm/telemetry/prometheus_sink.py and pipeline.py register, with their types and labels."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, Tuple

import pytest
from prometheus_client import CollectorRegistry

from distlm.telemetry.pipeline import PrepareMetrics
from distlm.telemetry.prometheus_sink import PrometheusSink

DOCS = Path(__file__).resolve().parents[2] / "docs"
Metric = Tuple[str, Tuple[str, ...]]  # (type, label names)


def exposed(metric) -> Tuple[str, Metric]:
    """Scraped name of a prometheus_client metric object (a counter ``x`` is ``x_total``)."""
    name = metric._name + ("_total" if metric._type == "counter" else "")
    return name, (metric._type, tuple(metric._labelnames))


def registered() -> Dict[str, Dict[str, Metric]]:
    trainer = dict(exposed(m) for m in PrometheusSink().m.values())
    prepare = dict(exposed(m) for m in vars(PrepareMetrics(CollectorRegistry())).values())
    return {"train": trainer, "prepare": prepare}


def documented(section: str) -> Dict[str, Metric]:
    """``| `name` | type | labels | meaning |`` rows of one ``## `` section of telemetry.md."""
    text = (DOCS / "telemetry.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(distlm_[a-z_]+)` \| (\w+) \|([^|]*)\|", body, re.M)
    return {n: (t, tuple(re.findall(r"`(\w+)`", labels))) for n, t, labels in rows}


@pytest.mark.parametrize("stage,section", [("train", "Trainer"), ("prepare", "Prepare pipeline")])
def test_telemetry_md_lists_every_metric_with_type_and_labels(stage: str, section: str) -> None:
    code, doc = registered()[stage], documented(section)
    assert len(code) >= 7
    assert sorted(set(code) - set(doc)) == [], "registered but not in docs/telemetry.md"
    assert sorted(set(doc) - set(code)) == [], "in docs/telemetry.md but not registered"
    wrong = {n: (doc[n], code[n]) for n in code if doc[n] != code[n]}
    assert wrong == {}, "(documented, registered) type/labels differ"


def test_deploy_md_monitoring_table_matches() -> None:
    text = (DOCS / "deploy.md").read_text(encoding="utf-8")
    section = text.split("Monitoring with Prometheus", 1)[1].split("\n## ", 1)[0]
    cells = re.findall(r"`(distlm_(?:train|prepare)_[a-z_]+)(?:\{([a-z_,]+)\})?` \| (\w+)", section)
    doc = {n: (t, tuple(filter(None, labels.split(",")))) for n, labels, t in cells}
    code = {**registered()["train"], **registered()["prepare"]}
    assert doc == code
