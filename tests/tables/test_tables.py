"""The README's data dictionary is the one generated from lib/tables/."""

from __future__ import annotations

from lib.tables import markdown
from tests.conftest import PROJECT_ROOT


def test_readme_data_dictionary_is_current():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert markdown() in readme, "run: .venv/bin/python -m lib.tables --update-readme"
