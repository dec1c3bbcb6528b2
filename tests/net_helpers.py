"""Loopback networking for tests (imported by name; ``tests/`` is on ``sys.path``
through ``tests/conftest.py``)."""
import socket

# What the loopback moto_server accepts (moto takes any key); the shared Ray session's
# workers get these too (tests/conftest.py), so S3 tests need no Ray of their own.
MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
