"""The data dictionary: every output table, its columns, their meaning and their constraints.

This is the single source for the column comments stored in the Delta schema (BI tools show
them), the CHECK/NOT NULL constraints put on the tables, and the README's data dictionary
(``python -m lib.tables`` prints it as Markdown; a test keeps the README in step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

YEAR_RANGE = "year BETWEEN 1962 AND 2100"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Spark SQL type
    comment: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    comment: str
    columns: tuple[Column, ...]
    checks: dict[str, str] = field(default_factory=dict)
    partition_by: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: str, comment: str, nullable: bool = True) -> Column:
    return Column(name, type_, comment, nullable)


YEAR = _c("year", "int", "Calendar year of the BACI flows", nullable=False)
COUNTRY = _c(
    "country_code",
    "int",
    "BACI country code (ISO 3166 numeric except e.g. 251 France, 842 USA, 490 Other Asia nes)",
    nullable=False,
)
PLACE_YEAR = _c("year", "int", "Calendar year of the place x activity table", nullable=False)
PRODUCT = _c(
    "product",
    "string",
    "HS code at the configured level (products.level: 2, 4 or 6 digits, leading zeros kept)",
    nullable=False,
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "baci_flows",
            "Bilateral trade flows as read from BACI, one row per (year, exporter, importer, HS6 product)",
            (
                YEAR,
                _c("exporter", "int", "BACI code of the exporting country", False),
                _c("importer", "int", "BACI code of the importing country", False),
                _c(
                    "product",
                    "string",
                    "HS6 product code (6 characters, leading zeros kept)",
                    False,
                ),
                _c("value", "double", "Trade value, thousands of current USD", False),
                _c("quantity", "double", "Quantity, metric tons; null where BACI has NA"),
                _c("hs_revision", "string", "HS revision of the release (HS92, HS17, ...)", False),
                _c("release", "string", "BACI release (e.g. V202401; SYNTH2401: synthetic)", False),
            ),
            {
                "value_positive": "value > 0",
                "year_range": YEAR_RANGE,
                "not_self_trade": "exporter <> importer",
                "product_hs6": "length(product) = 6",
            },
            ("year",),
        ),
        Table(
            "baci_quarantine",
            "Rows of BACI files that were not accepted, with file, line and reason",
            (
                _c("source_file", "string", "File (or zip!member) the row came from", False),
                _c("source_year", "int", "Year in the file name", False),
                _c("line_number", "bigint", "Physical line number in the file (header = 1)", False),
                _c("reason", "string", "Why the row was rejected", False),
                _c("raw_line", "string", "The line as read"),
                _c("release", "string", "BACI release", False),
                _c("run_id", "string", "Run that read the file", False),
            ),
        ),
        Table(
            "baci_countries",
            "BACI country list of the ingested release",
            (
                _c("country_code", "int", "BACI country code", False),
                _c("country_name", "string", "Country name"),
                _c("iso2", "string", "ISO 3166 alpha-2 code (null where BACI has none)"),
                _c(
                    "iso3",
                    "string",
                    "ISO 3166 alpha-3 code; not unique in BACI (e.g. BEL for 56 and 58)",
                ),
                _c("release", "string", "BACI release", False),
            ),
        ),
        Table(
            "baci_products",
            "BACI HS6 product list of the ingested release",
            (
                _c("product", "string", "HS6 code", False),
                _c("description", "string", "BACI description"),
                _c("hs_revision", "string", "HS revision", False),
                _c("release", "string", "BACI release", False),
            ),
        ),
        Table(
            "country_year",
            "Yearly indicators per country (every country that traded in the year)",
            (
                YEAR,
                COUNTRY,
                _c("iso3", "string", "ISO3 code"),
                _c("country_name", "string", "Country name"),
                _c(
                    "export_value",
                    "double",
                    "Exports of the products kept (erratic items excluded), thousands USD",
                    False,
                ),
                _c(
                    "diversification",
                    "int",
                    "Number of products with M = 1 (null if the country was dropped by thresholds)",
                ),
                _c(
                    "fitness",
                    "double",
                    "Economic Fitness (Tacchella et al. 2012), mean 1 over active countries",
                ),
                _c("log10_fitness", "double", "log10 of fitness"),
                _c("fitness_rank", "int", "Rank by fitness, 1 = fittest"),
                _c(
                    "eci",
                    "double",
                    "Economic Complexity Index (eigenvector method; eci.normalization)",
                ),
                _c("eci_rank", "int", "Rank by ECI, 1 = most complex"),
                _c("coi", "double", "Complexity outlook index (Atlas)"),
                _c("mean_product_complexity", "double", "Mean PCI of the products with M = 1"),
                _c(
                    "in_core",
                    "boolean",
                    "Passes the size rules (countries.min_export_value, countries.min_population):"
                    " in the matrix every indicator is computed on. With eci.two_step, countries"
                    " outside the core still get eci from the core's PCI",
                    False,
                ),
                _c("population", "double", "Population (input.country_attributes; null if none)"),
                _c(
                    "gdp_per_capita",
                    "double",
                    "GDP per capita, as given in input.country_attributes (null if none)",
                ),
                _c(
                    "expy",
                    "double",
                    "EXPY (Hausmann, Hwang, Rodrik 2007): income level of the export basket,"
                    " sum_p (X_cp/X_c) PRODY_p (needs GDP per capita)",
                ),
            ),
            {
                "year_range": YEAR_RANGE,
                "export_value_non_negative": "export_value >= 0",
                "fitness_non_negative": "fitness IS NULL OR fitness >= 0",
            },
        ),
        Table(
            "product_year",
            "Yearly indicators per product (every product exported in the year)",
            (
                YEAR,
                PRODUCT,
                _c(
                    "description",
                    "string",
                    "Product description (HS4: text shared by its HS6 descriptions)",
                ),
                _c(
                    "world_export_value",
                    "double",
                    "World exports of the product, thousands USD",
                    False,
                ),
                _c(
                    "ubiquity",
                    "int",
                    "Number of countries with M = 1 (null if dropped by thresholds)",
                ),
                _c(
                    "complexity",
                    "double",
                    "Product Complexity Q of the Fitness-Complexity algorithm, mean 1",
                ),
                _c("log10_complexity", "double", "log10 of complexity"),
                _c("complexity_rank", "int", "Rank by complexity, 1 = most complex"),
                _c(
                    "pci",
                    "double",
                    "Product Complexity Index (eigenvector method; eci.normalization)",
                ),
                _c(
                    "in_core",
                    "boolean",
                    "Passes the world-trade floor (products.min_world_export): in the matrix every"
                    " indicator is computed on",
                    False,
                ),
                _c(
                    "prody",
                    "double",
                    "PRODY (Hausmann, Hwang, Rodrik 2007): exporters' GDP per capita weighted by"
                    " (X_cp/X_c) / sum_c (X_cp/X_c) (needs GDP per capita)",
                ),
            ),
            {"year_range": YEAR_RANGE, "world_export_value_positive": "world_export_value > 0"},
        ),
        Table(
            "country_product_year",
            "Per country, product and year: exports, RCA, M and the product-space measures",
            (
                YEAR,
                COUNTRY,
                PRODUCT,
                _c("export_value", "double", "Exports X_cp, thousands USD (0 where none)", False),
                _c("rca", "double", "Balassa RCA = (X_cp/X_c)/(X_p/X) (0 where no exports)", False),
                _c(
                    "rca_difference",
                    "double",
                    "Additive RCA = X_cp/X_c - X_p/X (IPPR 2014, footnote 11)",
                ),
                _c(
                    "mcp",
                    "int",
                    "Presence M_cp: 1 if RCA >= rca.threshold (> if rca.strict), or by"
                    " rca.presence_test (rpop, both)",
                    False,
                ),
                _c(
                    "rpop",
                    "double",
                    "RPOP = (X_cp/pop_c) / (X_p/pop): exports per person relative to the world's"
                    " (needs population; null without)",
                ),
                _c(
                    "density",
                    "double",
                    "Density: share of the proximity of p to the products c has",
                ),
                _c("cog", "double", "Complexity outlook gain of c moving into p (Atlas)"),
            ),
            {
                "year_range": YEAR_RANGE,
                "rca_non_negative": "rca >= 0",
                "mcp_binary": "mcp IN (0, 1)",
                "export_value_non_negative": "export_value >= 0",
            },
            ("year",),
        ),
        Table(
            "product_proximity",
            "Product proximity phi = min(P(a|b), P(b|a)), non-zero pairs, both orders, no diagonal",
            (
                YEAR,
                _c("product_a", "string", "HS code of the first product", False),
                _c("product_b", "string", "HS code of the second product", False),
                _c("proximity", "double", "Proximity in (0, 1]", False),
            ),
            {
                "year_range": YEAR_RANGE,
                "proximity_range": "proximity > 0 AND proximity <= 1",
                "no_diagonal": "product_a <> product_b",
            },
            ("year",),
        ),
        Table(
            "fitness_convergence",
            "How the Fitness-Complexity iteration stopped, per year",
            (
                YEAR,
                _c("iterations", "int", "Updates made from F = Q = 1", False),
                _c("final_change", "double", "max |change| of F and Q at the last update"),
                _c(
                    "method",
                    "string",
                    "fitness.method: tacchella, nhefc or genepy (genepy: closed form, 0 iterations)",
                ),
            ),
            {"year_range": YEAR_RANGE},
        ),
        Table(
            "run_log",
            "One row per run: config, input table versions, row counts and timings",
            (
                _c(
                    "run_id",
                    "string",
                    "Run id, also in the userMetadata of every commit of the run",
                    False,
                ),
                _c("job", "string", "fitness, ingest or report", False),
                _c("status", "string", "succeeded or failed", False),
                _c("started_at", "timestamp", "Start (UTC)", False),
                _c("finished_at", "timestamp", "End (UTC)", False),
                _c("code_version", "string", "Version of this project", False),
                _c("config", "string", "The full configuration used, as JSON", False),
                _c("source", "string", "BACI source read (ingest)"),
                _c("baci_release", "string", "BACI release read (ingest)"),
                _c("years", "array<int>", "Years processed"),
                _c(
                    "input_versions",
                    "map<string,bigint>",
                    "Delta versions of the input tables read",
                ),
                _c(
                    "row_counts",
                    "map<string,bigint>",
                    "Rows read, accepted, quarantined and written per stage",
                ),
                _c("stage_seconds", "map<string,double>", "Wall time per stage"),
                _c("error", "string", "Error of a failed run"),
                _c(
                    "source_kind",
                    "string",
                    "real (a CEPII BACI release) or synthetic (the project's generated release: "
                    "illustrative, not real trade) of the data the run read",
                ),
            ),
        ),
        Table(
            "baci_ingest_files",
            "Bookkeeping of incremental runs: the BACI file each year's flows were ingested from",
            (
                YEAR,
                _c("source_file", "string", "Name of the yearly BACI file", False),
                _c(
                    "fingerprint",
                    "string",
                    "Key of the file (name, size, modification time), the code lists and the "
                    "code version: a file with the same key is not read again",
                    False,
                ),
                _c("release", "string", "BACI release (e.g. V202401; SYNTH2401: synthetic)", False),
                _c("rows_read", "bigint", "Data lines read from the file", False),
                _c("rows_accepted", "bigint", "Lines accepted into baci_flows", False),
                _c("run_id", "string", "Run that ingested the file", False),
            ),
            {"year_range": YEAR_RANGE},
        ),
        Table(
            "indicator_years",
            "Bookkeeping of incremental runs: what each year's indicators were computed from",
            (
                YEAR,
                _c(
                    "flows_key",
                    "string",
                    "Fingerprint of the year's flows (baci_ingest_files.fingerprint)",
                    False,
                ),
                _c(
                    "settings_key",
                    "string",
                    "Key of the code version and the methodology settings used",
                    False,
                ),
                _c("run_id", "string", "Run that computed the year", False),
            ),
            {"year_range": YEAR_RANGE},
        ),
        # --- place x activity inputs (lib.io.place_activity, lib.measures.regional) ------------------
        Table(
            "place_activity_dataset",
            "What the places and activities of a warehouse built from a place x activity table "
            "are (one row: the input of the last run)",
            (
                _c(
                    "dataset",
                    "string",
                    "Name of the dataset (uk-regions, or the file's stem)",
                    False,
                ),
                _c("source", "string", "The table read (path)", False),
                _c("place_kind", "string", "What a place is: country, region, ...", False),
                _c(
                    "activity_classification",
                    "string",
                    "Classification of the activities: HS, SITC, SIC 2007, NAICS, ...",
                    False,
                ),
                _c("value_measure", "string", "What the values are: employees, exports, ..."),
                _c("synthetic", "boolean", "True if the data are SYNTHETIC (made up)", False),
                _c("note", "string", "Origin of the data, as the run was told"),
                _c("run_id", "string", "Run that read the table", False),
            ),
        ),
        Table(
            "places",
            "The places of a place x activity table and their integer codes (the country_code "
            "of the indicator tables in that warehouse)",
            (
                _c("country_code", "int", "Integer code of the place in this warehouse", False),
                _c("place", "string", "The place's code as in the input (e.g. TLI)", False),
                _c("place_name", "string", "The place's name, where the input gives one"),
            ),
        ),
        Table(
            "activities",
            "The activities of a place x activity table (the product of the indicator tables "
            "in that warehouse)",
            (
                _c("product", "string", "The activity's code as in the input (e.g. 29)", False),
                _c("activity_name", "string", "The activity's name, where the input gives one"),
                _c(
                    "parent_activity",
                    "string",
                    "The coarser activity it belongs to (e.g. SIC section C), where given",
                ),
            ),
        ),
        Table(
            "place_activity_quarantine",
            "Rows of a place x activity table that were not accepted, with file, line and reason",
            (
                _c("source_file", "string", "The table read", False),
                _c(
                    "line_number",
                    "bigint",
                    "Physical line number (CSV, header = 1) or row number (Parquet, Delta)",
                    False,
                ),
                _c("reason", "string", "Why the row was rejected", False),
                _c("raw_line", "string", "The row's fields as read, comma-separated"),
                _c("run_id", "string", "Run that read the table", False),
            ),
        ),
        Table(
            "place_structure_year",
            "Yearly specialisation of each place's structure (EconGeo's definitions, on shares)",
            (
                PLACE_YEAR,
                _c("country_code", "int", "The place's code (places.country_code)", False),
                _c("total_value", "double", "Sum of the place's values (e.g. employees)", False),
                _c("specialisations", "int", "Activities with location quotient >= 1 (M = 1)"),
                _c(
                    "krugman_index",
                    "double",
                    "Krugman specialisation index: sum_a |X_pa/X_p - X_a/X| (0 = the total's "
                    "structure, up to 2)",
                ),
                _c(
                    "herfindahl_index",
                    "double",
                    "Herfindahl index of the place's structure: sum_a (X_pa/X_p)^2",
                ),
                _c(
                    "shannon_entropy",
                    "double",
                    "Shannon entropy of the place's structure, bits: -sum_a s log2 s",
                ),
            ),
            {
                "year_range": YEAR_RANGE,
                "herfindahl_share": "herfindahl_index IS NULL OR "
                "(herfindahl_index > 0 AND herfindahl_index <= 1.000000001)",
            },
        ),
        Table(
            "activity_concentration_year",
            "Yearly geographic concentration of each activity",
            (
                PLACE_YEAR,
                _c("product", "string", "The activity's code (activities.product)", False),
                _c("total_value", "double", "Sum of the activity's values", False),
                _c("specialised_places", "int", "Places with location quotient >= 1 (M = 1)"),
                _c(
                    "hoover_index",
                    "double",
                    "Hoover index: 1/2 sum_p |X_pa/X_a - X_p/X| (0 = spread like all "
                    "activities, up to 1; EconGeo prints it x 100)",
                ),
                _c(
                    "locational_gini",
                    "double",
                    "Locational Gini (Krugman 1991): area between the diagonal and the "
                    "localisation curve (0 to 0.5)",
                ),
            ),
            {"year_range": YEAR_RANGE},
        ),
        Table(
            "specialisation_changes",
            "Specialisations (location quotient >= 1) each place entered or exited since the "
            "previous year of the table",
            (
                PLACE_YEAR,
                _c("from_year", "int", "The previous year of the table", False),
                _c("country_code", "int", "The place's code (places.country_code)", False),
                _c("product", "string", "The activity's code", False),
                _c("change", "string", "entry (M 0 -> 1) or exit (M 1 -> 0)", False),
            ),
            {"year_range": YEAR_RANGE, "change_kind": "change IN ('entry', 'exit')"},
        ),
    ]
}


# Tables only a run on a place x activity table writes (lib.run.place_activity); a BACI run
# writes the others.
PLACE_ACTIVITY_TABLES = (
    "place_activity_dataset",
    "places",
    "activities",
    "place_activity_quarantine",
    "place_structure_year",
    "activity_concentration_year",
    "specialisation_changes",
)
BACI_RUN_TABLES = tuple(name for name in TABLES if name not in PLACE_ACTIVITY_TABLES)


def conform(df: DataFrame, name: str) -> DataFrame:
    """Select the table's columns in order, cast to their types, attach their comments."""
    table = TABLES[name]
    return df.select(
        *[
            F.col(c.name).cast(c.type).alias(c.name, metadata={"comment": c.comment})
            for c in table.columns
        ]
    )


_SPARK_TYPES = {
    "int": T.IntegerType(),
    "bigint": T.LongType(),
    "double": T.DoubleType(),
    "string": T.StringType(),
    "boolean": T.BooleanType(),
    "timestamp": T.TimestampType(),
}


def spark_type(type_: str) -> T.DataType:
    """The Spark type of a dictionary type string (``int``, ``array<int>``,
    ``map<string,double>``), without a SparkContext: modules build their schemas at import."""
    type_ = type_.replace(" ", "")
    if type_.startswith("array<") and type_.endswith(">"):
        return T.ArrayType(spark_type(type_[len("array<") : -1]))
    if type_.startswith("map<") and type_.endswith(">"):
        key, value = type_[len("map<") : -1].split(",", 1)
        return T.MapType(spark_type(key), spark_type(value))
    return _SPARK_TYPES[type_]


def spark_schema(
    name: str, columns: Sequence[str] | None = None, *, exclude: Sequence[str] = ()
) -> T.StructType:
    """The table's Spark schema with its column comments, or that of some of its columns (in
    the order given): the schemas of the yearly tasks that produce part of a table."""
    by_name = {c.name: c for c in TABLES[name].columns}
    names = [n for n in (columns or by_name) if n not in exclude]
    return T.StructType(
        [
            T.StructField(
                n, spark_type(by_name[n].type), by_name[n].nullable, {"comment": by_name[n].comment}
            )
            for n in names
        ]
    )


# Arrow types of the primitive Spark SQL types, for files written by Arrow (lib.io.delta_arrow).
ARROW_TYPES = {
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
}


def arrow_file_schema(name: str) -> pa.Schema:
    """The columns of the table's data files, as Arrow types: every column but the partition
    columns (Delta keeps those in the log and the file paths, not in the files)."""
    table = TABLES[name]
    return pa.schema(
        [
            pa.field(c.name, ARROW_TYPES[c.type], c.nullable)
            for c in table.columns
            if c.name not in table.partition_by
        ]
    )


def markdown() -> str:
    """The data dictionary as Markdown, for the README."""
    out = []
    for table in TABLES.values():
        out.append(f"### `{table.name}`\n\n{table.comment}.")
        if table.partition_by:
            out[-1] += f" Partitioned by {', '.join(table.partition_by)}."
        out.append("\n| column | type | meaning |\n|---|---|---|")
        for c in table.columns:
            required = "" if c.nullable else " (never null)"
            out.append(f"| `{c.name}` | {c.type} | {c.comment}{required} |")
        if table.checks:
            checks = "; ".join(f"`{expr}`" for expr in table.checks.values())
            out.append(f"\nConstraints: {checks}.")
        out.append("")
    return "\n".join(out)


README_START = "<!-- data-dictionary:start (generated by: python -m lib.tables --update-readme) -->"
README_END = "<!-- data-dictionary:end -->"


def update_readme(path: str = "README.md") -> None:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f"{head}{README_START}\n\n{markdown()}\n{README_END}{tail}")


if __name__ == "__main__":
    import sys

    if "--update-readme" in sys.argv:
        update_readme()
    else:
        print(markdown())
