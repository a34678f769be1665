"""The pipeline's Fitness + ECI stage alone, for the comparison with a plain numpy loop.

Reads M (``mcp``) of the given years from ``country_product_year`` and caches it grouped by
year, and starts one Python worker per core with the modules the stage imports (untimed, as
the numpy loop gets its matrices built and numpy imported before its timing; the JSON has the
worker start-up seconds too), then runs, one Spark task per year as the pipeline places them
(``lib.measures.matrix.one_partition_per_year``), Fitness-Complexity and ECI / PCI with the configured
options; the country and product vectors are materialised (a no-op write). The timed part
runs ``--repeat`` times (default 3) in the same session; ``seconds`` is the median (the upper
one for an even count), ``runs`` every time. Prints one JSON object.

    ./spark-submit.sh bench/spark_fitness_eci.py --warehouse WH [--years 1995-2024] [--repeat 3]
"""

from __future__ import annotations

import json
import os
import statistics
import time

import pandas as pd
import pyarrow as pa
from pyspark.sql import functions as F

from lib.execution.years import each_year_of_partition, one_partition_per_year
from lib.io import delta
from lib.measures.eci import eci_pci_matrix
from lib.measures.fitness import fitness_complexity_matrix
from lib.measures.matrix import year_matrix
from lib.run.cli import common_parser, config_from_args
from lib.run.config import parse_years
from lib.run.session import build_session

SCHEMA = "year bigint, n bigint, fitness double, eci double"  # the country vectors


def main() -> None:
    parser = common_parser(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the median is reported")
    args = parser.parse_args()
    config = config_from_args(args)
    # The session the pipeline's job builds (jobs/fitness.py): its shuffle partitions too,
    # else 200 tasks, 170 of them empty, for 30 yearly groups.
    spark = build_session(
        "bench-fitness-eci",
        extra_conf={"spark.sql.shuffle.partitions": str(config.spark.shuffle_partitions)},
    )
    fitness_cfg, normalization = config.fitness, config.eci.normalization

    def compute(year: int, rows: pd.DataFrame):
        ym = year_matrix(rows)
        fit = fitness_complexity_matrix(ym.M, fitness_cfg.max_iterations, fitness_cfg.tolerance)
        eci = eci_pci_matrix(ym.M, normalization)
        yield pa.RecordBatch.from_pandas(
            pd.DataFrame(
                {"year": year, "n": len(ym.countries), "fitness": fit.fitness, "eci": eci.eci}
            ),
            preserve_index=False,
        )

    rows = delta.read_table(spark, config.output.warehouse, delta.COUNTRY_PRODUCT_YEAR)
    years = parse_years(config.input.years, "input.years")
    if years:
        rows = rows.where(F.col("year").isin(years))
    rows = rows.where(F.col("mcp") == 1).select("year", "country_code", "product", "mcp")
    # The input, M as long rows grouped (and sorted) by year, is read and cached first
    # (untimed), as the numpy loop gets its matrices built: the timing is the yearly Fitness +
    # ECI tasks.
    span = sorted(r["year"] for r in rows.select("year").distinct().collect())
    rows = one_partition_per_year(rows, span).persist()
    rows.count()
    workers_started = start_python_workers(spark)
    runs = []
    for _ in range(max(args.repeat, 1)):
        start = time.perf_counter()
        vectors = rows.mapInArrow(each_year_of_partition(compute), SCHEMA)
        vectors.write.format("noop").mode("overwrite").save()
        runs.append(round(time.perf_counter() - start, 2))
    n_years = len(span)
    rows.unpersist()
    print(
        json.dumps(
            {
                "seconds": round(statistics.median_high(runs), 2),
                "runs": runs,
                "years": n_years,
                "python_worker_start_seconds": round(workers_started, 2),
            }
        )
    )
    spark.stop()


def start_python_workers(spark) -> float:
    """One Python task per core importing what the stage imports; returns its seconds."""
    cores = int(spark.conf.get("spark.default.parallelism", None) or os.cpu_count() or 2)

    def load(batches):
        import lib.measures.eci  # noqa: F401
        import lib.measures.fitness  # noqa: F401
        import lib.measures.matrix  # noqa: F401

        yield from batches

    start = time.perf_counter()
    ids = spark.range(0, cores, numPartitions=cores)
    ids.mapInPandas(load, "id long").write.format("noop").mode("overwrite").save()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
