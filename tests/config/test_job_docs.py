"""docs/jobs.md documents every field of the typed job spec, in its section's table."""
import dataclasses
import re
import typing
from pathlib import Path

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
    sources) are walked."""
    hints = typing.get_type_hints(cls)
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
    from distlm.data.loading.augment import AUGMENTATIONS
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
