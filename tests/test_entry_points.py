"""The console scripts declared in pyproject.toml point at real ``main`` functions."""
import importlib
import tomllib
from pathlib import Path

import pytest

SCRIPTS = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]["scripts"]


def test_every_command_line_module_has_a_script():
    assert set(SCRIPTS) == {"distlm-train", "distlm-prepare", "distlm-predict", "distlm-evaluate", "distlm-export"}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_target_prints_help(name, capsys):
    module, func = SCRIPTS[name].split(":")
    main = getattr(importlib.import_module(module), func)
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "usage: python -m distlm." in capsys.readouterr().out
