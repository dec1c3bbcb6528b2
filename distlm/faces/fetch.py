"""Read (and decode) a batch's files with several requests in flight, results in order.

Object stores answer one request in tens of milliseconds; a detector actor reading its
files one by one waits on each. :func:`in_order` keeps up to ``window`` calls running
on a thread pool and yields their results in input order, a :class:`DecodeError` in
place of a result for an input that failed (other exceptions propagate).
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Executor, Future
from typing import Callable, Deque, Iterable, Iterator, TypeVar, Union

from distlm.images import DecodeError

T = TypeVar("T")
A = TypeVar("A")


def _guarded(fn: Callable[[A], T], item: A) -> Union[T, DecodeError]:
    try:
        return fn(item)
    except DecodeError as err:
        return err


def in_order(fn: Callable[[A], T], items: Iterable[A], pool: Executor, window: int) -> Iterator[Union[T, DecodeError]]:
    """``fn(item)`` for each item, at most ``window`` running at once, yielded in input order.

    Args:
        fn: the per-item call (e.g. read the file and decode it).
        items: inputs; consumed lazily, ``window`` ahead of what has been yielded.
        pool: the executor that runs the calls.
        window: calls in flight (>= 1).

    Yields:
        ``fn(item)`` or the :class:`DecodeError` it raised, one per item, in order.
    """
    if window < 1:
        raise ValueError(f"fetch window must be >= 1, got {window}")
    pending: Deque[Future] = deque()
    for item in items:
        pending.append(pool.submit(_guarded, fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
