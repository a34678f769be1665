"""The driver-side steps of the jobs that need no Spark (lib.run.workflow)."""

from __future__ import annotations

import os
from pathlib import Path

from lib.run.config import load_config
from lib.run.workflow import resolve_source, with_default_attributes


def test_a_relative_source_is_made_absolute_for_the_executors(tmp_path, monkeypatch):
    # On a cluster the executors open the files: a path relative to the driver's working
    # directory would point elsewhere there.
    monkeypatch.chdir(tmp_path)
    config = load_config(overrides=['input.source="releases/BACI_HS92_V202401"'])
    source = resolve_source(config)
    assert os.path.isabs(source)
    assert Path(source) == tmp_path / "releases" / "BACI_HS92_V202401"


def test_a_uri_source_is_left_as_given():
    config = load_config(overrides=['input.source="s3a://bucket/BACI_HS92_V202401.zip"'])
    assert resolve_source(config) == "s3a://bucket/BACI_HS92_V202401.zip"


def test_a_relative_warehouse_is_made_absolute(tmp_path, monkeypatch):
    # Delta's table builder refuses "./warehouse/run_log"; on a cluster it would be each
    # node's own directory. The default is "./warehouse".
    from lib.run.cli import common_parser, config_from_args

    monkeypatch.chdir(tmp_path)
    config = config_from_args(common_parser("test").parse_args([]))
    assert config.output.warehouse == str(tmp_path / "warehouse")
    config = config_from_args(common_parser("test").parse_args(["--warehouse", "s3a://b/wh"]))
    assert config.output.warehouse == "s3a://b/wh"


def test_the_default_release_brings_its_synthetic_gdp_per_capita(tmp_path, monkeypatch):
    """With the embedded default release (input.source = "") and no attributes file named, the
    run uses the release's SYNTHETIC GDP per capita, so the default job writes the growth
    forecasts; a named source or attributes file is left alone, as is a release without one."""
    from lib.datasets.synthetic import ATTRIBUTES_FILE

    monkeypatch.setenv("ECX_GENERATED_DIR", str(tmp_path))
    config = load_config()
    assert with_default_attributes(config) is config  # no release generated there yet
    shipped = tmp_path / "default" / ATTRIBUTES_FILE
    shipped.parent.mkdir()
    shipped.write_text("country,year,population,gdp_per_capita\n", encoding="utf-8")
    resolved = with_default_attributes(config)
    assert resolved.input.country_attributes == str(shipped)
    assert resolved.input.source == "" and resolved.prediction == config.prediction
    own = load_config(overrides=['input.country_attributes="mine.csv"'])
    assert with_default_attributes(own) is own
    real = load_config(overrides=['input.source="BACI_HS92_V202401.zip"'])
    assert with_default_attributes(real) is real
