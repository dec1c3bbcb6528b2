"""What a read did: counts by outcome and the list of skipped inputs with reasons.

Every reader and ``list_images`` fill one ``ReadReport``. Bad input never crashes a
read and is never silently lost: it becomes a *skip* ``(where, reason)`` where
``where`` is ``file:line`` or a path. With ``strict=True`` the first skip raises
``ReadError`` naming the file (and line) instead.

Example::

    report = ReadReport("rafdb")
    report.count("rows")
    report.skip("EmoLabel/list_patition_label.txt:7", "unknown label", "'9'")
    print(report.summary())
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

from distlm.errors import UserError


class ReadError(UserError):
    """Bad input met in strict mode; the message names the file and line."""


@dataclass
class ReadReport:
    """Outcome counts and skips of one read.

    Attributes:
        source: what was read (reader name and path), for messages.
        strict: raise ``ReadError`` on the first skip instead of recording it.
        counts: outcome -> count. ``rows`` is the number of rows kept; every skip
            reason category has its own count; notes (e.g. ``masked au values``,
            ``dropped None (8)``) are counted without being skips.
        skips: ``(where, reason)`` for every skipped input, in reading order.
    """

    source: str = ""
    strict: bool = False
    counts: Counter = field(default_factory=Counter)
    skips: List[Tuple[str, str]] = field(default_factory=list)

    def count(self, outcome: str, n: int = 1) -> None:
        """Add ``n`` to the count of ``outcome`` (not a skip)."""
        if n:
            self.counts[outcome] += n

    def skip(self, where: str, category: str, detail: str = "") -> None:
        """Record a skipped input; raises ``ReadError`` in strict mode.

        ``category`` is the short reason counted in ``counts`` (``blank line``,
        ``unknown label``, ...); ``detail`` says what exactly was found.
        """
        reason = f"{category}: {detail}" if detail else category
        if self.strict:
            prefix = f"{self.source}: " if self.source else ""
            raise ReadError(f"{prefix}{where}: {reason}")
        self.counts[category] += 1
        self.skips.append((where, reason))

    @property
    def rows(self) -> int:
        """Rows kept."""
        return self.counts.get("rows", 0)

    @property
    def skipped(self) -> int:
        """Number of skipped inputs."""
        return len(self.skips)

    def by_reason(self) -> Dict[str, int]:
        """Skip counts by reason category."""
        out: Counter = Counter()
        for _, reason in self.skips:
            out[reason.split(":", 1)[0]] += 1
        return dict(out)

    def merge(self, other: "ReadReport") -> "ReadReport":
        """Add ``other``'s counts and skips to this report (in place); returns self."""
        self.counts.update(other.counts)
        self.skips.extend(other.skips)
        return self

    def summary(self, max_skips: int = 10) -> str:
        """A short human-readable account: counts, then the first skips."""
        head = f"{self.source or 'read'}: {self.rows} rows"
        others = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()) if k != "rows")
        lines = [head + (f" ({others})" if others else "")]
        if self.skips:
            lines.append(f"{len(self.skips)} skipped:")
            lines += [f"  {where}: {reason}" for where, reason in self.skips[:max_skips]]
            if len(self.skips) > max_skips:
                lines.append(f"  ... and {len(self.skips) - max_skips} more")
        return "\n".join(lines)
