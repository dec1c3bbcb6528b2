"""Every spec under jobs/ loads, round-trips and builds its model."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from distlm.config import KNOWN_FORMATS, load_job, save_job, spec_from_dict, spec_to_dict
from distlm.data.readers import create_reader, list_readers
from distlm.models import create_model

ROOT = Path(__file__).resolve().parents[2]
JOB_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "jobs").rglob("*.yaml"))


def test_jobs_folder_has_every_table_row() -> None:
    expected = {
        "jobs/rafdb.yaml", "jobs/emotionet.yaml", "jobs/local-smoke.yaml",
        *(f"jobs/fmnist/{n}.yaml" for n in ("ce", "ce_center", "ce_island", "ce_lm", "pseudo_label",
                                            "center_ssl", "island_ssl", "lm_ssl_batch", "lm_ssl_ema",
                                            "ce_all")),
        *(f"jobs/rafdb/{n}.yaml" for n in ("softmax", "island", "center_ssl", "island_ssl", "lm_ssl")),
        *(f"jobs/emotionet/{n}.yaml" for n in ("mse", "center", "island_transfer", "lm_transfer")),
    }
    assert expected <= set(JOB_FILES)


@pytest.mark.parametrize("path", JOB_FILES)
def test_job_loads_and_round_trips(path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    spec = load_job(path)
    assert spec.num_outputs >= 2
    assert spec_from_dict(spec_to_dict(spec)) == spec
    out = tmp_path / "resolved.yaml"
    save_job(spec, out)
    assert load_job(out) == spec


_BUILT: dict = {}


@pytest.mark.parametrize("path", JOB_FILES)
def test_job_builds_its_model(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    spec = load_job(path)
    key = (spec.model.name, spec.model.embedding_dim, spec.model.head, repr(spec.model.options),
           spec.num_outputs, spec.data.channels, spec.data.image_size)
    if key not in _BUILT:  # AlexNet is 60M parameters: build each distinct model once
        model = create_model(spec).eval()
        x = torch.zeros(1, spec.data.channels, spec.data.image_size, spec.data.image_size)
        with torch.no_grad():
            out = model(x)
        _BUILT[key] = (out.embedding.shape, out.logits.shape, model.embedding_dim)
    emb_shape, logit_shape, dim = _BUILT[key]
    assert logit_shape == (1, spec.num_outputs)
    assert emb_shape == (1, dim)
    if spec.model.embedding_dim is not None:
        assert dim == spec.model.embedding_dim


def test_table_rows_differ_only_where_they_should(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    base = load_job("jobs/rafdb.yaml")
    soft = load_job("jobs/rafdb/softmax.yaml")
    assert (soft.loss.aux, soft.selflabel.enabled, soft.data.unlabelled) == ("none", False, None)
    assert soft.data.labelled == base.data.labelled and soft.scaling == base.scaling
    assert load_job("jobs/rafdb/lm_ssl.yaml") == base
    ema = load_job("jobs/fmnist/lm_ssl_ema.yaml")
    batch = load_job("jobs/fmnist/lm_ssl_batch.yaml")
    assert (ema.loss.centroids, batch.loss.centroids) == ("ema", "batch")
    assert ema.loss.weighting == batch.loss.weighting
    assert load_job("jobs/fmnist/ce_all.yaml").data.labels_per_class is None


def test_known_formats_are_the_registered_readers() -> None:
    assert set(KNOWN_FORMATS) == set(list_readers())


@pytest.mark.parametrize("path", JOB_FILES)
def test_job_sources_bind_to_their_readers(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    spec = load_job(path)
    for role in ("labelled", "unlabelled", "test"):
        src = getattr(spec.data, role)
        if src is not None:  # binds path + options to the reader's signature; reads nothing
            create_reader(src.format, src.path, **src.options)



def test_job_formulas_restrict_to_their_aus() -> None:
    from distlm.formulas import load_formulas

    checked = 0
    for path in JOB_FILES:
        spec = load_job(str(ROOT / path))
        if spec.selflabel.formulas is not None:
            formulas = load_formulas(spec.selflabel.formulas, aus=spec.data.au_ids)
            assert len(formulas.emotions) >= 2, path
            checked += 1
    assert checked >= 3  # emotionet base, center, island_transfer, lm_transfer
