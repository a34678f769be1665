"""The run log: one row per run with its config, input table versions and row counts per stage.

Every Delta commit of a run carries the same run id in its ``userMetadata``, so a table version
can be traced back to the run (and config) that wrote it.

Must not record secrets: credentials and endpoints' keys never enter the log.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql.pandas.types import to_arrow_schema

from lib import __version__
from lib.datasets.provenance import DataSource, data_source
from lib.io import delta
from lib.run.config import Config
from lib.tables import spark_schema

RUN_LOG_SCHEMA = spark_schema("run_log")  # the data dictionary's columns


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]


@dataclass
class RunRecord:
    job: str
    config: Config
    run_id: str = field(default_factory=new_run_id)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    source: str | None = None
    baci_release: str | None = None
    years: list[int] = field(default_factory=list)
    input_versions: dict[str, int] = field(default_factory=dict)
    row_counts: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    source_kind: str | None = None  # lib.datasets.provenance: real or synthetic

    def write(
        self, spark: SparkSession, warehouse: str, status: str, error: str | None = None
    ) -> None:
        row = (
            self.run_id,
            self.job,
            status,
            self.started_at.replace(tzinfo=None),
            datetime.now(UTC).replace(tzinfo=None),
            __version__,
            self.config.to_json(),
            self.source,
            self.baci_release,
            [int(y) for y in self.years],
            {k: int(v) for k, v in self.input_versions.items()},
            {k: int(v) for k, v in self.row_counts.items()},
            {k: float(v) for k, v in self.stage_seconds.items()},
            error,
            self.source_kind,
        )
        schema = to_arrow_schema(RUN_LOG_SCHEMA, timezone="UTC")
        rows = pa.Table.from_pylist([dict(zip(schema.names, row, strict=True))], schema=schema)
        delta.write_arrow_rows(
            spark,
            rows,
            warehouse,
            delta.RUN_LOG,
            self.run_id,
            writer=self.config.output.writer,
            append=True,
        )

    def summary(self) -> str:
        return json.dumps(
            {"run_id": self.run_id, "rows": self.row_counts, "seconds": self.stage_seconds},
            indent=2,
            sort_keys=True,
        )


def warehouse_data_source(spark: SparkSession, warehouse: str) -> DataSource:
    """Real or synthetic: the releases of the warehouse's code lists (``baci_countries``, a few
    hundred rows) and what the run log recorded for them."""
    if not delta.table_exists(spark, warehouse, delta.COUNTRIES):
        return DataSource((), None)
    releases = [
        r["release"]
        for r in delta.read_table(spark, warehouse, delta.COUNTRIES)
        .select("release")
        .distinct()
        .collect()
    ]
    logged: list[tuple[str | None, str | None]] = []
    if delta.table_exists(spark, warehouse, delta.RUN_LOG):
        log = delta.read_table(spark, warehouse, delta.RUN_LOG)
        if "source_kind" in log.columns:  # run logs written before it have no kind
            rows = log.where("source_kind IS NOT NULL").select("baci_release", "source_kind")
            logged = [(r["baci_release"], r["source_kind"]) for r in rows.distinct().collect()]
    return data_source(releases, logged)
