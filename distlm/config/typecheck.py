"""Check and convert plain YAML values against type annotations (pure functions).

Supported annotations: ``Any``, ``bool``, ``int``, ``float``, ``str``, ``Literal[...]``,
``Optional[X]``, ``List[X]``, ``Tuple[X, ...]``, ``Tuple[X, Y]``, ``Dict[str, X]``,
nested dataclasses and registry names (``distlm.config.choices.registered``: a string
checked against the registry's names when it is read). Rules, kept strict on purpose:

- ``bool`` is never read as ``int``/``float`` and ``int`` never as ``bool``;
- an ``int`` is accepted where a ``float`` is expected (``lr: 1`` is fine), and so is a
  string that Python's ``float()`` reads, because YAML 1.1 reads ``1e-3`` as a string;
- a dataclass is built from a mapping; unknown keys raise with the closest known one.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, Callable, Dict, Literal, Mapping, Union

from distlm.config.choices import registry_choice
from distlm.config.errors import SpecError, unknown_key_problem

#: Maps a dotted key to the file (or command line) that set it, for error messages.
SourceOf = Callable[[str], str]

_NONE = type(None)


def type_name(tp: Any) -> str:
    """A short human name for an annotation: ``int``, ``list[int]``, ``one of 'a', 'b'``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return "any value"
    choice = registry_choice(tp) if origin is Annotated else None
    if choice is not None:
        return f"a {choice.label()} name ({', '.join(choice.names())})"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is Union:
        inner = [type_name(a) for a in args if a is not _NONE]
        text = " or ".join(inner)
        return f"{text} or null" if _NONE in args else text
    if origin in (list, tuple, dict):
        return f"{origin.__name__}[{', '.join(type_name(a) if a is not Ellipsis else '...' for a in args)}]"
    if dataclasses.is_dataclass(tp):
        return f"mapping ({tp.__name__})"
    return getattr(tp, "__name__", str(tp))


def _fail(source_of: SourceOf, key: str, tp: Any, value: Any) -> SpecError:
    return SpecError(source_of(key), key, f"expected {type_name(tp)}, got {value!r}")


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def coerce(value: Any, tp: Any, key: str, source_of: SourceOf) -> Any:
    """Return ``value`` converted to ``tp`` or raise `SpecError` naming ``key``.

    >>> coerce(3, float, "optim.lr", lambda k: "x.yaml")
    3.0
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin is Union:
        if value is None:
            if _NONE in args:
                return None
            raise _fail(source_of, key, tp, value)
        options = [a for a in args if a is not _NONE]
        if len(options) == 1:
            try:
                return coerce(value, options[0], key, source_of)
            except SpecError as err:
                # Re-word "expected int" as "expected int or null" for the top-level value.
                if err.key == key and err.problem.startswith("expected "):
                    raise _fail(source_of, key, tp, value) from None
                raise
        errors = []
        for option in options:
            try:
                return coerce(value, option, key, source_of)
            except SpecError as err:
                errors.append(err)
        # An option whose shape fitted but whose content did not (a nested key, an
        # unknown registry name) says more than "expected A or B": raise it when it is
        # the only one.
        specific = [e for e in errors if e.key != key or not e.problem.startswith("expected ")]
        if len(specific) == 1:
            raise specific[0]
        raise _fail(source_of, key, tp, value)
    if origin is Annotated:
        choice = registry_choice(tp)
        if choice is None:
            return coerce(value, args[0], key, source_of)
        if not isinstance(value, str):
            raise _fail(source_of, key, tp, value)
        problem = choice.problem(value)
        if problem is not None:
            raise SpecError(source_of(key), key, problem)
        return value
    if origin is Literal:
        if any(type(value) is type(a) and value == a for a in args):
            return value
        raise _fail(source_of, key, tp, value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _fail(source_of, key, tp, value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise _fail(source_of, key, tp, value)
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise _fail(source_of, key, tp, value)
    if tp is str:
        if isinstance(value, str):
            return value
        raise _fail(source_of, key, tp, value)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise _fail(source_of, key, tp, value)
        return [coerce(v, args[0], f"{key}[{i}]", source_of) for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _fail(source_of, key, tp, value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(v, args[0], f"{key}[{i}]", source_of) for i, v in enumerate(value))
        if len(value) != len(args):
            raise SpecError(source_of(key), key,
                            f"expected {type_name(tp)} ({len(args)} items), got {value!r}")
        return tuple(coerce(v, a, f"{key}[{i}]", source_of) for i, (v, a) in enumerate(zip(value, args)))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise _fail(source_of, key, tp, value)
        out: Dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise SpecError(source_of(key), key,
                                f"expected {type_name(tp)} (string keys), got {value!r}")
            out[k] = coerce(v, args[1], _join(key, k), source_of)
        return out
    if dataclasses.is_dataclass(tp):
        return build_dataclass(tp, value, key, source_of)
    raise TypeError(f"unsupported annotation {tp!r} at {key!r}")  # a bug in the schema


def build_dataclass(cls: type, value: Any, key: str, source_of: SourceOf) -> Any:
    """Build dataclass ``cls`` from a mapping; missing keys take the defaults."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise _fail(source_of, key, cls, value)
    hints = typing.get_type_hints(cls, include_extras=True)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs: Dict[str, Any] = {}
    for name, item in value.items():
        sub = _join(key, str(name))
        if name not in hints:
            raise SpecError(source_of(sub), sub, unknown_key_problem(str(name), names))
        kwargs[name] = coerce(item, hints[name], sub, source_of)
    return cls(**kwargs)


def to_plain(obj: Any) -> Any:
    """Dataclasses, tuples and dicts to YAML-ready builtins (tuples become lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    return obj
