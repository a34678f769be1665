"""Synthetic data are labelled synthetic wherever they show (lib/datasets/provenance.py): the release id,
the reader's detection, run_log.source_kind, the job's summary; a real CEPII release is real."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from deltalake import DeltaTable
from pyspark.sql import types as T

from lib.datasets import synthetic
from lib.datasets.provenance import REAL, SYNTHETIC, SYNTHETIC_BANNER, DataSource, data_source
from lib.io import delta
from lib.io.baci import FLOW_FILE, discover_release
from lib.report.frames import deltalake_reader, read_data_source
from lib.run.config import load_config
from lib.run.run_log import RunRecord, warehouse_data_source
from lib.run.workflow import locate_release, run_ingest
from lib.tables import spark_schema
from tests.conftest import data_path
from tests.shared_run import run_fitness_job, shared_tiny_run

REAL_SAMPLE = "baci_hs17_y2020_sample"


def run_log(warehouse: str) -> pd.DataFrame:
    log = DeltaTable(delta.table_path(warehouse, delta.RUN_LOG)).to_pandas()
    return log.sort_values("started_at")


def test_data_source_rules() -> None:
    assert data_source(["SYNTH2401"], []) == DataSource(("SYNTH2401",), SYNTHETIC)
    assert data_source(["V202401"], [("V202401", REAL)]).kind == REAL
    assert data_source(["V202401"], [("V202401", SYNTHETIC), ("V202401", REAL)]).synthetic
    assert data_source(["V202401"], [("V202301", REAL)]).kind is None, "another release's record"
    assert data_source(["V202401", "SYNTH2401"], [("V202401", REAL)]).synthetic
    assert DataSource(("V202401",), REAL).description() == "CEPII BACI V202401"
    assert "CEPII" not in DataSource(("SYNTH2401",), SYNTHETIC).description()
    assert "not recorded" in DataSource(("V202401",), None).description()


def test_the_synthetic_release_id_is_no_cepii_id_and_is_read_as_synthetic(tmp_path: Path) -> None:
    assert not synthetic.RELEASE.startswith("V")
    release = synthetic.generate_release(tmp_path / "synthetic", "tiny", seed=1, years=[2020])
    assert FLOW_FILE.match(synthetic.flow_file_name(2020))["release"] == synthetic.RELEASE
    found = discover_release(str(release))
    assert (found.release, found.source_kind) == (synthetic.RELEASE, SYNTHETIC)
    # The generator's note alone marks a release synthetic, whatever its file names say.
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    for path in release.iterdir():
        shutil.copy(path, renamed / path.name.replace(synthetic.RELEASE, "V202401"))
    assert discover_release(str(renamed)).source_kind == SYNTHETIC
    (renamed / synthetic.SYNTHETIC_MARKER).unlink()
    assert discover_release(str(renamed)).source_kind == REAL


def test_a_synthetic_run_is_logged_and_printed_as_synthetic(
    spark, tmp_path_factory, tmp_path, capsys
) -> None:
    """The default job on a synthetic release: run_log says synthetic; a rerun without ingest
    (the kind then comes from the warehouse) prints the banner and logs synthetic too."""
    tiny = shared_tiny_run(spark, tmp_path_factory)
    assert run_log(tiny.warehouse)["source_kind"].tolist() == [SYNTHETIC]
    warehouse = str(tmp_path / "warehouse")
    shutil.copytree(tiny.warehouse, warehouse)
    capsys.readouterr()
    run_fitness_job(spark, "--no-ingest", "--warehouse", warehouse)
    printed = capsys.readouterr().out
    assert SYNTHETIC_BANNER in printed
    assert printed.index(SYNTHETIC_BANNER) < printed.index("Top 10 by fitness")
    assert run_log(warehouse)["source_kind"].tolist() == [SYNTHETIC, SYNTHETIC]
    source = read_data_source(deltalake_reader(warehouse))  # what the report reads
    assert source == DataSource((synthetic.RELEASE,), SYNTHETIC)


def real_release(folder: Path) -> Path:
    """The real BACI extract (HS17, V202301) as a release folder: its flows, CEPII's country
    list of the sample and a product list of the extract's own codes."""
    sample = data_path(REAL_SAMPLE)
    folder.mkdir()
    flows = sample / "BACI_HS17_Y2020_V202301_subset_i4_i710.csv"
    shutil.copy(flows, folder / "BACI_HS17_Y2020_V202301.csv")
    shutil.copy(sample / "country_codes_V202201.csv", folder / "country_codes_V202301.csv")
    codes = sorted(pd.read_csv(flows, usecols=["k"], dtype=str)["k"].str.zfill(6).unique())
    pd.DataFrame({"code": codes, "description": [f"HS17 {c}" for c in codes]}).to_csv(
        folder / "product_codes_HS17_V202301.csv", index=False
    )
    return folder


def test_a_real_release_run_is_logged_real(spark, tmp_path) -> None:
    """The ingest job's steps (jobs/ingest.py) on the real BACI extract."""
    folder = real_release(tmp_path / "BACI_HS17_V202301")
    warehouse = str(tmp_path / "warehouse")
    config = load_config(overrides=[f'input.source="{folder}"', f'output.warehouse="{warehouse}"'])
    release = locate_release(config)
    assert (release.release, release.source_kind) == ("V202301", REAL)
    run = RunRecord("ingest", config)
    try:
        run_ingest(spark, config, release, run)
    finally:
        spark.conf.unset("spark.databricks.delta.commitInfo.userMetadata")
    run.write(spark, warehouse, "succeeded")
    assert run_log(warehouse)["source_kind"].tolist() == [REAL]
    expected = DataSource(("V202301",), REAL)
    assert warehouse_data_source(spark, warehouse) == expected
    assert read_data_source(deltalake_reader(warehouse)) == expected
    assert expected.description() == "CEPII BACI V202301"


def test_a_run_log_without_the_column_gets_it(spark, tmp_path) -> None:
    """A run_log made before source_kind existed takes the column on the next write."""
    warehouse = str(tmp_path / "warehouse")
    fields = [f for f in spark_schema("run_log").fields if f.name != "source_kind"]
    spark.createDataFrame([], T.StructType(fields)).write.format("delta").save(
        delta.table_path(warehouse, delta.RUN_LOG)
    )
    RunRecord("fitness", load_config(), source_kind=SYNTHETIC).write(spark, warehouse, "succeeded")
    assert run_log(warehouse)["source_kind"].tolist() == [SYNTHETIC]
