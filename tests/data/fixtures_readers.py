"""Fixture trees in the published dataset layouts, and a loopback S3 server.

Image files hold a few marker bytes: readers index images, they do not decode them.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterable, Iterator, Mapping

import pytest
from net_helpers import MOTO_CREDENTIALS

JPEG = b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"


def touch(root: Path, rels: Iterable[str], data: bytes = JPEG) -> None:
    """Create files ``root/rel`` (parents included)."""
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


def write(root: Path, rel: str, content: str | bytes) -> Path:
    """Write a text (UTF-8) or bytes file ``root/rel``."""
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return p


def rafdb_tree(root: Path, lines: str, images: Iterable[str]) -> Path:
    """RAF-DB basic: ``EmoLabel/list_patition_label.txt`` + ``Image/original/<name>``
    and ``Image/aligned/<stem>_aligned.jpg`` for each name in ``images``."""
    write(root, "EmoLabel/list_patition_label.txt", lines)
    for name in images:
        stem = name.rsplit(".", 1)[0]
        touch(root, [f"Image/original/{name}", f"Image/aligned/{stem}_aligned.jpg"])
    return root


def class_tree(root: Path, spec: Mapping[str, Iterable[str]]) -> Path:
    """``root/<class>/<file>`` for each class and file name."""
    for cls, files in spec.items():
        touch(root, [f"{cls}/{f}" for f in files])
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_listening(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"moto_server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"moto_server did not listen on 127.0.0.1:{port} within {timeout}s")


@pytest.fixture(scope="module")
def s3_storage() -> Iterator[Dict[str, str]]:
    """A ``moto_server`` on 127.0.0.1 (free port) and the storage dict that reaches it.

    Needs ``moto[server]`` in the venv; the server is stopped by its pid.
    """
    pytest.importorskip("moto")
    server = Path(sys.executable).with_name("moto_server")
    if not server.exists():
        pytest.skip("moto_server not installed (pip install 'moto[server]')")
    port = _free_port()
    env = dict(os.environ, **MOTO_CREDENTIALS)
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    try:
        _wait_listening(port, proc)
        yield {
            "endpoint_url": f"http://127.0.0.1:{port}",
            "key": MOTO_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "secret": MOTO_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "region": "us-east-1",
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
