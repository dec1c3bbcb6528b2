"""File systems for dataset roots: local paths and ``s3://`` URIs, one API.

``resolve`` turns a user path into an fsspec file system and the path that file
system expects (an absolute local path, or ``bucket/key`` for S3). Everything else
in ``distlm.data`` goes through it, so a reader works unchanged on local disk and
on any S3-compatible store (AWS, MinIO, Ceph, a ``moto_server`` in tests).

S3 settings come from the ``storage`` dict first, then the environment:

================  =====================================================
storage key       environment fallback
================  =====================================================
``endpoint_url``  ``AWS_ENDPOINT_URL_S3``, then ``AWS_ENDPOINT_URL``
``region``        ``AWS_REGION``, then ``AWS_DEFAULT_REGION``
``key``           ``AWS_ACCESS_KEY_ID`` (botocore also reads it itself)
``secret``        ``AWS_SECRET_ACCESS_KEY``
``token``         ``AWS_SESSION_TOKEN``
``anon``          ``DISTLM_S3_ANON`` (``1``/``true``), default False
================  =====================================================

Example::

    fs, p = resolve("s3://faces/rafdb", {"endpoint_url": "http://127.0.0.1:9000"})
    with open_binary("s3://faces/rafdb/EmoLabel/list_patition_label.txt") as f: ...
"""
from __future__ import annotations

import contextlib
import os
import posixpath
import uuid
from typing import IO, Any, Dict, Iterator, Mapping, Optional, Tuple

import fsspec
from fsspec import AbstractFileSystem

Storage = Optional[Mapping[str, Any]]

_S3_ENV: Dict[str, Tuple[str, ...]] = {
    "endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "key": ("AWS_ACCESS_KEY_ID",),
    "secret": ("AWS_SECRET_ACCESS_KEY",),
    "token": ("AWS_SESSION_TOKEN",),
    "anon": ("DISTLM_S3_ANON",),
}
_S3_KEYS = frozenset(_S3_ENV) | {"client_kwargs", "config_kwargs"}


def is_s3(path: str) -> bool:
    """True for ``s3://`` (and ``s3a://``) URIs."""
    return path.startswith(("s3://", "s3a://"))


def absolute(path: str) -> str:
    """A URL (``s3://...``) as given; a local path made absolute here, so a Ray worker
    (another working directory, maybe another node with the same mount) finds it."""
    return path if "://" in path else os.path.abspath(path)


def s3_setting(storage: Storage, name: str) -> Any:
    """One S3 setting (``endpoint_url``, ``region``, ...): ``storage[name]`` if set, else
    its environment fallback (table above), else None."""
    storage = storage or {}
    if storage.get(name) is not None:
        return storage[name]
    for var in _S3_ENV[name]:
        if os.environ.get(var):
            return os.environ[var]
    return None


def s3_options(storage: Storage = None) -> Dict[str, Any]:
    """Keyword arguments for ``s3fs.S3FileSystem`` from ``storage`` + environment.

    Raises ``ValueError`` naming an unknown storage key (a typo would otherwise be
    silently ignored and the default endpoint used).
    """
    storage = dict(storage or {})
    unknown = set(storage) - _S3_KEYS
    if unknown:
        raise ValueError(
            f"unknown storage option(s) {sorted(unknown)}; known: {sorted(_S3_KEYS)}"
        )
    opts: Dict[str, Any] = {}
    client_kwargs = dict(storage.get("client_kwargs") or {})
    endpoint = s3_setting(storage, "endpoint_url")
    if endpoint:
        opts["endpoint_url"] = endpoint
    region = s3_setting(storage, "region")
    if region:
        client_kwargs["region_name"] = region
    for name in ("key", "secret", "token"):
        value = s3_setting(storage, name)
        if value:
            opts[name] = value
    anon = s3_setting(storage, "anon")
    if isinstance(anon, str):
        anon = anon.strip().lower() in ("1", "true", "yes")
    opts["anon"] = bool(anon)
    if client_kwargs:
        opts["client_kwargs"] = client_kwargs
    if storage.get("config_kwargs"):
        opts["config_kwargs"] = dict(storage["config_kwargs"])
    return opts


def resolve(path: str, storage: Storage = None) -> Tuple[AbstractFileSystem, str]:
    """Return ``(fsspec file system, normalized path)`` for a local path or S3 URI.

    Local paths become absolute and normalized (``~`` expanded, no trailing
    slash); S3 URIs become ``bucket/key`` without a trailing slash.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if is_s3(path):
        fs = fsspec.filesystem("s3", **s3_options(storage))
        key = path.split("://", 1)[1].strip("/")
        return fs, posixpath.normpath(key) if key else key
    if "://" in path and not path.startswith("file://"):
        raise ValueError(f"unsupported URI scheme in {path!r}: use a local path or s3://")
    if path.startswith("file://"):
        path = path[len("file://"):]
    return fsspec.filesystem("file"), os.path.abspath(os.path.expanduser(path))


def is_local(fs: AbstractFileSystem) -> bool:
    """True when ``fs`` is the local file system."""
    protocol = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
    return "file" in protocol or "local" in protocol


def to_uri(fs: AbstractFileSystem, path: str) -> str:
    """The user-facing form of ``path``: ``s3://bucket/key`` or an absolute local path."""
    if is_local(fs):
        return path
    return f"s3://{path.lstrip('/')}"


def join(fs: AbstractFileSystem, root: str, *parts: str) -> str:
    """Join path parts with the separator of ``fs`` (always ``/`` on POSIX and S3)."""
    return posixpath.join(root, *parts)


def open_binary(path: str, storage: Storage = None) -> IO[bytes]:
    """Open ``path`` (local or ``s3://``) for binary reading.

    Raises ``FileNotFoundError`` naming the path when it does not exist.
    """
    fs, p = resolve(path, storage)
    try:
        return fs.open(p, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None


def read_bytes(path: str, storage: Storage = None) -> bytes:
    """The whole content of ``path`` as bytes."""
    with open_binary(path, storage) as f:
        return f.read()


def exists(path: str, storage: Storage = None) -> bool:
    """True if ``path`` exists (file or directory); S3 caches are bypassed."""
    fs, p = resolve(path, storage)
    if not is_local(fs):
        fs.invalidate_cache(p)
    return bool(fs.exists(p))


def read_text(path: str, storage: Storage = None, encoding: str = "utf-8") -> str:
    """The whole content of ``path`` decoded with ``encoding``.

    Raises ``ValueError`` naming the file and byte offset on undecodable bytes.
    """
    data = read_bytes(path, storage)
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path}: not valid {encoding} at byte {err.start}: {data[err.start:err.start + 8]!r}"
        ) from None


def write_text(path: str, text: str, storage: Storage = None) -> str:
    """Write ``text`` (UTF-8) to ``path`` whole, local (parent folders created, through
    :func:`atomic_local`) or S3 (one upload on close); return ``path`` in its
    user-facing form (:func:`to_uri`)."""
    fs, key = resolve(path, storage)
    if is_local(fs):
        with atomic_local(key) as tmp, open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        return to_uri(fs, key)
    with fs.open(key, "w", encoding="utf-8") as f:
        f.write(text)
    return to_uri(fs, key)


def _commit(tmp: str, final: str) -> None:
    os.replace(tmp, final)


@contextlib.contextmanager
def atomic_local(path: str) -> Iterator[str]:
    """A temporary path beside local ``path`` to write to; renamed onto ``path`` when
    the block ends without error, removed when it raises.

    The temporary name keeps ``path``'s extension (writers that choose the format by
    extension still do) and starts with a dot. A process killed mid-write leaves at
    most that hidden temporary, never a partial file under ``path``; readers see the
    old file or the whole new one. Parent folders are created.

    Example::

        with atomic_local("out/results.parquet") as tmp:
            pq.write_table(table, tmp)
    """
    path = os.path.abspath(path)
    head, tail = os.path.split(path)
    os.makedirs(head, exist_ok=True)
    stem, ext = os.path.splitext(tail)
    tmp = os.path.join(head, f".{stem}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}{ext}")
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        _commit(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
