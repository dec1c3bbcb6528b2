"""docs/jobs.md documents every field of the typed job spec, in its section's table."""
import dataclasses
import re
import typing
from pathlib import Path

import pytest

from distlm.config.choices import registry_choice
from distlm.config.schema import JobSpec
from distlm.config.schema_data import SourceSpec

DOC = (Path(__file__).parents[2] / "docs" / "jobs.md").read_text()


def _sections(doc: str) -> dict:
    """``### `a`, `b``` heading -> the keys in the first column of its table; a key
    written ``a.x`` under a heading that names several sections belongs to ``a``."""
    out, names = {}, []
    for line in doc.splitlines():
        if line.startswith("### "):
            names = ["top level"] if "top level" in line else re.findall(r"`([a-z_]+)`", line)
            for n in names:
                out.setdefault(n, set())
        elif line.startswith("## "):
            names = []
        elif names and line.startswith("| `"):
            for key in re.findall(r"`([a-z_0-9.]+)`", line.split("|")[1]):
                head, _, rest = key.partition(".")
                if len(names) > 1 and head in names:
                    out[head].add(rest)
                else:
                    for n in names:
                        out[n].add(key)
    return out


def _fields(cls, prefix=""):
    """(dotted key, type) of every field of a dataclass; nested dataclasses (but not
    sources) are walked. Types keep their ``Annotated`` metadata (registry names)."""
    hints = typing.get_type_hints(cls, include_extras=True)
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        if dataclasses.is_dataclass(t) and t is not SourceSpec:
            yield from _fields(t, f"{prefix}{f.name}.")
        else:
            yield prefix + f.name, t


def test_every_job_spec_field_is_in_its_section_table():
    sections = _sections(DOC)
    hints = typing.get_type_hints(JobSpec)
    missing = []
    for f in dataclasses.fields(JobSpec):
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            documented = sections.get(f.name, set())
            missing += [f"{f.name}.{k}" for k, _ in _fields(t) if k not in documented]
        elif f.name not in sections.get("top level", set()):
            missing.append(f.name)
    assert not missing, f"docs/jobs.md lacks: {missing}"


def test_source_fields_are_described():
    for name in (f.name for f in dataclasses.fields(SourceSpec)):
        assert f"`{name}`" in DOC


def test_every_choice_of_a_closed_field_is_documented():
    lines = DOC.splitlines()
    missing = []
    closed = [(k, typing.get_args(t)) for k, t in _fields(JobSpec) if typing.get_origin(t) is typing.Literal]
    for key, values in closed:
        section, _, leaf = key.partition(".")
        candidates = [leaf, key] if leaf else [key]
        rows = [ln for ln in lines if any(ln.startswith(f"| `{c}`") for c in candidates)]
        assert rows, f"no row for {key}"
        missing += [f"{key}: {v}" for v in values if not any(f"`{v}`" in re.split(r"(?<!\\)\|", r)[2] for r in rows)]
    assert not missing, f"docs/jobs.md does not list: {missing}"


def _type_cell(key: str) -> str:
    """The type column of the one row documenting dotted ``key`` (``section.leaf``)."""
    section, _, leaf = key.partition(".")
    text = DOC[DOC.index("## Fields"):]
    rows = [ln for ln in text.splitlines() if ln.startswith((f"| `{leaf}`", f"| `{key}`"))]
    rows = [r for r in rows if r.startswith(f"| `{key}`")] or rows
    assert len(rows) == 1, f"expected one row for {key}, found {len(rows)}"
    return re.split(r"(?<!\\)\|", rows[0])[2]


REGISTRY_FIELDS = [(k, registry_choice(t)) for k, t in _fields(JobSpec) if registry_choice(t) is not None]


def test_registry_fields_are_found():
    keys = {k for k, _ in REGISTRY_FIELDS}
    assert {"loss.supervised", "loss.aux", "loss.centroids", "loss.weighting.mode",
            "selflabel.threshold_policy", "model.head"} <= keys


@pytest.mark.parametrize("key,choice", REGISTRY_FIELDS, ids=[k for k, _ in REGISTRY_FIELDS])
def test_row_of_a_registry_field_lists_exactly_its_names(key, choice):
    listed = re.findall(r"`([^`]+)`", _type_cell(key))
    assert sorted(listed) == choice.names(), f"docs/jobs.md row {key}: {listed} vs {choice.names()}"
    assert len(listed) == len(set(listed))


def test_type_check_paragraph_names_every_registry_field_and_its_error():
    paragraph = DOC[DOC.index("3. **Type check**"):DOC.index("4. **Cross-field rules**")]
    missing = [k for k, _ in REGISTRY_FIELDS if f"`{k}`" not in paragraph]
    assert not missing, f"the type-check paragraph does not name {missing}"
    from distlm.config import SpecError, spec_from_dict

    with pytest.raises(SpecError) as err:
        spec_from_dict({"loss": {"supervised": "mae"}})
    assert f"`{err.value.key}: {err.value.problem}`" in " ".join(paragraph.split())


def _row(key: str, section: str) -> str:
    """The one row of ``key`` in the table under the heading ``### `section```."""
    text = DOC[DOC.index(f"### `{section}`"):]
    text = text[:text.index("\n#", 1)]
    rows = [ln for ln in text.splitlines() if ln.startswith(f"| `{key}`")]
    assert len(rows) == 1, f"expected one row for {key} under {section}, found {len(rows)}"
    return rows[0]


def test_every_registered_name_a_field_accepts_is_documented():
    import distlm.data.readers  # noqa: F401  (registers the readers)
    import distlm.models  # noqa: F401  (registers the models)
    from distlm.data.loading.augment_presets import AUGMENTATIONS
    from distlm.data.readers.base import READERS
    from distlm.formulas.builtin import FORMULA_SETS
    from distlm.models.registry import MODELS

    source = DOC[DOC.index("A **source** is"):]
    source = source[:source.index("\n\n")]
    where = {"train.augment": (_row("augment", "train"), AUGMENTATIONS),
             "selflabel.formulas": (_row("formulas", "selflabel"), FORMULA_SETS),
             "model.name": (_row("name", "model"), MODELS),
             "source format": (source, READERS)}
    missing = [f"{k}: {n}" for k, (text, reg) in where.items() for n in reg.list() if f"`{n}" not in text]
    assert not missing, f"docs/jobs.md does not name: {missing}"
