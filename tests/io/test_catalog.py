"""Optional catalog registration (output.catalog_database): the tables become SQL names.

The session fixture uses Spark's in-memory catalog, which is enough to check what we register; a
persistent metastore (Hive, Unity Catalog) only changes where the names are kept.
"""

from __future__ import annotations

import uuid

import pytest
from pyspark.sql import functions as F

from lib.io import delta
from lib.io.catalog import CatalogError, list_tables, quote_database, register_tables
from lib.run.config import OutputConfig
from lib.tables import BACI_RUN_TABLES, TABLES
from tests.shared_run import CATALOG_DATABASE, shared_tiny_run


@pytest.fixture()
def database(spark, tmp_path):
    """A fresh database with its location under tmp (the default is ./spark-warehouse)."""
    name = f"ecx_{uuid.uuid4().hex[:8]}"
    spark.sql(f"CREATE DATABASE {name} LOCATION '{tmp_path / 'catalog'}'")
    yield name
    spark.sql(f"DROP DATABASE IF EXISTS {name} CASCADE")  # external tables: names only


def write_small_tables(spark, warehouse: str) -> None:
    countries = spark.createDataFrame(
        [(4, "Afghanistan", "AF", "AFG", "V202401"), (8, "Albania", "AL", "ALB", "V202401")],
        "country_code int, country_name string, iso2 string, iso3 string, release string",
    )
    convergence = spark.createDataFrame(
        [(2019, 12, 1e-13, "tacchella")],
        "year int, iterations int, final_change double, method string",
    )
    delta.write_table(countries, warehouse, delta.COUNTRIES, "run-1")
    delta.write_table(convergence, warehouse, delta.FITNESS_CONVERGENCE, "run-1")


def test_registers_the_written_tables_and_the_run_log(spark, warehouse, database):
    write_small_tables(spark, str(warehouse))
    output = OutputConfig(warehouse=str(warehouse), catalog_database=database)

    registered = register_tables(spark, output)

    assert sorted(registered) == sorted(
        f"{database}.{n}" for n in (delta.COUNTRIES, delta.FITNESS_CONVERGENCE, delta.RUN_LOG)
    )
    names = {t.name for t in spark.catalog.listTables(database)}
    assert names == {delta.COUNTRIES, delta.FITNESS_CONVERGENCE, delta.RUN_LOG}
    by_name = spark.table(f"{database}.{delta.COUNTRIES}")
    by_path = delta.read_table(spark, str(warehouse), delta.COUNTRIES)
    assert sorted(by_name.collect()) == sorted(by_path.collect())
    # The run log is registered before the first run appends to it, with its full schema.
    assert spark.table(f"{database}.{delta.RUN_LOG}").columns == TABLES[delta.RUN_LOG].column_names
    # SQL clients see the data dictionary's comments through the name.
    described = spark.sql(f"DESCRIBE TABLE {database}.{delta.COUNTRIES}").collect()
    comments = {r["col_name"]: r["comment"] for r in described if r["col_name"] in by_name.columns}
    assert comments["iso3"] == next(
        c.comment for c in TABLES[delta.COUNTRIES].columns if c.name == "iso3"
    )


def test_registration_is_idempotent_and_follows_new_data(spark, warehouse, database):
    write_small_tables(spark, str(warehouse))
    output = OutputConfig(warehouse=str(warehouse), catalog_database=database)
    register_tables(spark, output)
    more = spark.createDataFrame(
        [(2020, 9, 1e-13, "tacchella")],
        "year int, iterations int, final_change double, method string",
    )
    delta.write_table(
        more, str(warehouse), delta.FITNESS_CONVERGENCE, "run-2", replace_where="year = 2020"
    )

    again = register_tables(spark, output)

    assert len(again) == 3
    years = spark.table(f"{database}.{delta.FITNESS_CONVERGENCE}").select(
        F.sort_array(F.collect_list("year"))
    )
    assert years.first()[0] == [2019, 2020]  # the name reads the table's latest version


def test_a_name_pointing_elsewhere_is_an_error_not_silently_kept(spark, tmp_path, database):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    write_small_tables(spark, first)
    write_small_tables(spark, second)
    register_tables(spark, OutputConfig(warehouse=first, catalog_database=database))

    with pytest.raises(CatalogError, match="already registered at"):
        register_tables(spark, OutputConfig(warehouse=second, catalog_database=database))


def test_no_database_configured_registers_nothing(spark, warehouse):
    before = {d.name for d in spark.catalog.listDatabases()}
    assert register_tables(spark, OutputConfig(warehouse=str(warehouse))) == []
    assert {d.name for d in spark.catalog.listDatabases()} == before
    assert not (warehouse / delta.RUN_LOG).exists()


@pytest.mark.parametrize("bad", ["ecx; DROP TABLE x", "1ecx", "a.b.c", "ecx-test", ""])
def test_database_names_are_checked(bad):
    with pytest.raises(CatalogError):
        quote_database(bad)


def test_unity_catalog_style_names_are_quoted_per_part():
    assert quote_database("main.ecx") == "`main`.`ecx`"


def test_the_pipeline_registers_every_table(spark, tmp_path_factory):
    """jobs/fitness.py's stages (lib.run.workflow) register every table when configured."""
    tiny = shared_tiny_run(spark, tmp_path_factory)
    names = {t.name for t in spark.catalog.listTables(CATALOG_DATABASE)}
    assert names == set(list_tables(spark, tiny.warehouse))
    assert set(BACI_RUN_TABLES) <= names
    for name in BACI_RUN_TABLES:
        by_name = spark.table(f"{CATALOG_DATABASE}.{name}").count()
        assert by_name == delta.read_table(spark, tiny.warehouse, name).count(), name
    run_ids = spark.table(f"{CATALOG_DATABASE}.{delta.RUN_LOG}").select("run_id").collect()
    assert [r[0] for r in run_ids] == [tiny.run_id]
