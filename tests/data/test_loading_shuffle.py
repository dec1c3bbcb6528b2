"""``shuffle_rows``: the Ray loader's shuffle buffer in rows, from a count or a memory budget."""
import pytest

from distlm.data.loading.shuffle import row_bytes, shuffle_rows

CROP = row_bytes(227, 3)


def test_a_crop_row_is_its_raw_pixels():
    assert CROP == 227 * 227 * 3 == 154_587


def test_auto_fills_the_budget_shared_by_the_sides():
    assert shuffle_rows("auto", 1024, CROP) == 6945            # 1 GiB of 227x227x3 crops
    assert shuffle_rows("auto", 1024, CROP, sides=2) == 3472   # labelled and unlabelled halves
    assert shuffle_rows("auto", 1024, CROP, sides=2) * 2 * CROP <= 1024 << 20
    assert shuffle_rows("auto", 1, CROP, sides=2) == 3          # never more than the budget...
    assert shuffle_rows("auto", 1, 1 << 21) == 1                # ...but at least one row


def test_a_count_is_rows_and_zero_is_none():
    assert shuffle_rows(512, 1024, CROP) == 512
    assert shuffle_rows(0, 1024, CROP) is None


@pytest.mark.parametrize("setting, budget, size, words", [
    (-1, 1024, CROP, ">= 0 rows"), ("big", 1024, CROP, "row count or 'auto'"), (True, 1024, CROP, "row count"),
    ("auto", 0, CROP, "must be > 0"), ("auto", 1024, 0, "must be > 0"),
])
def test_bad_settings_are_named(setting, budget, size, words):
    with pytest.raises(ValueError, match=words):
        shuffle_rows(setting, budget, size)
