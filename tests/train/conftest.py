"""Fixtures of the trainer tests; helpers live in ``train_helpers``."""
import os

import pytest

from train_helpers import FMNIST


@pytest.fixture(autouse=True)
def _need_fmnist():
    if not os.path.exists(os.path.join(FMNIST, "train-images-idx3-ubyte.gz")):
        pytest.fail(f"{FMNIST} missing: run `make data` (apt-get install dataset-fashion-mnist)")
