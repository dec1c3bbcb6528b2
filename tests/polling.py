"""Waiting for a condition without depending on how fast the machine is: poll it,
bounded by a timeout (imported by name; ``tests/`` is on ``sys.path``)."""
import time


def wait_for(cond, timeout: float, what: str, every: float = 0.5):
    """``cond()``'s first truthy value, polled every ``every`` s; AssertionError after ``timeout`` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
