"""Read a YAML file safely, refusing what ``yaml.safe_load`` silently accepts.

``yaml.safe_load`` keeps the last of two equal mapping keys, which would make a
duplicated emotion silently replace the first one; the node tree from
``yaml.compose`` (safe: it builds no Python objects) is checked for that first.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from distlm.formulas.errors import FormulaError


def _check_unique_keys(node: yaml.Node, where: str, parent: str = "") -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else ""
            if isinstance(key, yaml.ScalarNode):
                line = key.start_mark.line + 1
                if name in seen:
                    what = "emotion" if parent == "emotions" else "key"
                    under = f" under {parent!r}" if parent else ""
                    raise FormulaError(
                        f"{where}: duplicate {what} {name!r}{under} "
                        f"(line {seen[name]} and line {line})"
                    )
                seen[name] = line
            _check_unique_keys(value, where, name)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_unique_keys(item, where, parent)


def read_yaml(path: Path) -> Any:
    """Parse ``path``; a `FormulaError` names the file for every failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FormulaError(f"{path}: formula file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise FormulaError(f"{path}: cannot read formula file ({e})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _check_unique_keys(node, str(path))
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        detail = str(e).replace('"<unicode string>"', f'"{path.name}"')
        raise FormulaError(f"{path}: malformed YAML: {detail}") from None
    if data is None:
        raise FormulaError(f"{path}: the file is empty (expected a mapping with 'emotions:')")
    return data


def write_yaml(data: Any, path: Path) -> Path:
    """Write ``data`` with ``yaml.safe_dump``, keeping key order."""
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
