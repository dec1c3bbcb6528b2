"""Loopback networking for tests (imported by name; ``tests/`` is on ``sys.path``
through ``tests/conftest.py``)."""
import os
import socket

# What the loopback moto_server accepts (moto takes any key); the shared Ray session's
# workers get these too (tests/conftest.py), so S3 tests need no Ray of their own.
MOTO_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(root: int) -> list:
    """Process ids under ``root`` (Linux ``/proc``)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        kids = [p for p, pp in parents.items() if pp in frontier]
        found += kids
        frontier = kids
    return found


def _hex_ip(text: str) -> str:
    raw = bytes.fromhex(text)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))  # 4 little-endian words
    return socket.inet_ntop(socket.AF_INET6, words)


def listening_sockets(root: int) -> list:
    """``[(process name, local ip), ...]``: TCP sockets in LISTEN state held by the
    processes under ``root``, read from ``/proc`` (no psutil needed)."""
    listen = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A":  # TCP_LISTEN
                    listen[cols[9]] = _hex_ip(cols[1].split(":")[0])
    out = []
    for pid in _descendants(root):
        try:
            name = open(f"/proc/{pid}/comm").read().strip()
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        out += [(name, listen[l[8:-1]]) for l in links if l.startswith("socket:[") and l[8:-1] in listen]
    return out
