"""Each command line's docs page names every option the parser accepts."""
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _parsers():
    from distlm.predict.__main__ import build_parser as predict_parser
    from distlm.prepare.__main__ import build_parser as prepare_parser

    return {"docs/prepare.md": prepare_parser(), "docs/predict.md": predict_parser()}


@pytest.mark.parametrize("doc", ["docs/prepare.md", "docs/predict.md"])
def test_docs_page_names_every_option(doc):
    text = (ROOT / doc).read_text()
    parser = _parsers()[doc]
    import argparse

    options = [o for a in parser._actions for o in a.option_strings
               if o.startswith("--") and o != "--help" and a.help is not argparse.SUPPRESS]  # not the old spellings
    assert len(options) > 5
    missing = [o for o in options if not any(f"{o}{end}" in text for end in " `]=\n")]
    assert not missing, f"{doc} does not mention {missing}"
