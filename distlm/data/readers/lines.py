"""Reading annotation files line by line without losing or inventing anything.

Each physical line is decoded on its own, so one line of non-UTF-8 bytes is one
skip (``file:line``) instead of a failed file; a UTF-8 byte-order mark and CRLF line
ends are accepted; interior blank lines are skips; trailing blank lines at the end
of the file are not records and are ignored.
"""
from __future__ import annotations

import csv
from typing import Iterator, List, Optional, Tuple

from fsspec import AbstractFileSystem

from distlm.data.fs import to_uri
from distlm.data.report import ReadReport


def read_file_bytes(fs: AbstractFileSystem, path: str, what: str) -> bytes:
    """The bytes of ``path``; ``FileNotFoundError`` says which ``what`` is missing."""
    try:
        with fs.open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"{to_uri(fs, path)}: {what} not found") from None
    except IsADirectoryError:
        raise IsADirectoryError(f"{to_uri(fs, path)}: {what} is a directory, expected a file") from None


def iter_lines(data: bytes, where: str, report: ReadReport) -> Iterator[Tuple[int, str]]:
    """Yield ``(line number from 1, text without line end)`` for each usable line.

    ``where`` names the file in skip records (``where:line``).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw = data.split(b"\n")
    while raw and not raw[-1].strip():
        raw.pop()  # final newline / trailing blank lines: not records
    for n, line in enumerate(raw, start=1):
        line = line.rstrip(b"\r")
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as err:
            bad = line[err.start:err.start + 4]
            report.skip(f"{where}:{n}", "not UTF-8", f"byte {err.start}: {bad!r}")
            continue
        if not text.strip():
            report.skip(f"{where}:{n}", "blank line")
            continue
        yield n, text


def sniff_delimiter(first_line: str) -> str:
    """Tab if the line has one, else comma."""
    return "\t" if "\t" in first_line else ","


def split_fields(text: str, delimiter: str) -> List[str]:
    """CSV fields of one line (quotes honoured), each stripped of spaces."""
    return [f.strip() for f in next(csv.reader([text], delimiter=delimiter))]


def parse_int(text: str) -> Optional[int]:
    """``int`` of ``text`` (``"3"`` or ``"3.0"``), else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else None
