"""The session's shared local Ray for the tests of tests/prepare (see tests/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def ray_local(ray_shared):
    return ray_shared
