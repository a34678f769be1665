"""notebooks/country_report.ipynb runs top to bottom on the tables the report job wrote."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.report.test_report_job import EXPECTED_FIGURES

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "country_report.ipynb"


def test_notebook_draws_every_figure(report_out, tiny_warehouse, monkeypatch):
    monkeypatch.setenv("REPORT_WAREHOUSE", tiny_warehouse.path)
    monkeypatch.setenv("REPORT_COUNTRY", "GBR")
    monkeypatch.setenv("REPORT_COMPARE", "DEU,FRA,CAN")
    monkeypatch.setenv("REPORT_YEARS", "2001-2003")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == len(EXPECTED_FIGURES)
    text = "".join(o.get("text", "") for o in outputs)
    assert f"{len(EXPECTED_FIGURES)} figures drawn" in text
    assert not any(o.output_type == "error" for o in outputs)
