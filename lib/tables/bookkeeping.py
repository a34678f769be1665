"""The run's own tables: the run log, the ingested files' fingerprints and the state of each year's indicators.

Declarations only (name, comment, columns, constraints); ``lib.tables`` assembles them into
``TABLES``. No code here reads or writes a table.
"""

from __future__ import annotations

from lib.tables.columns import YEAR, YEAR_RANGE, Table, _c

TABLES = [
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
]
