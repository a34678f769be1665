"""Which path computes a year's matrix: ``execution.matrix`` = auto, in_task or distributed.

The in-task path (``lib.measures.yearly`` in one Spark task a year) holds the year as dense
place x activity float64 matrices; the distributed path (this package) never does. ``auto``
decides per year from the matrix's shape against the budget of one Python task:

    in-task bytes ~ 120 x places x activities     (the dense copies: X, RCA, RCA difference,
                                                   RPOP, M, density, COG and their temporaries)
                  +  40 x min(places, activities)^2   (ECI's eigenproblem, on the smaller side)

measured (2026-12-07, one process, VmHWM above the interpreter's start, the grid written in
blocks of places, ``lib.measures.year_rows``): 3,100 x 1,000 cells 0.32 GiB (estimate 0.38),
5,000 x 1,000 0.50 GiB (estimate 0.60), 2,000 x 2,500 0.50 GiB (estimate 0.60); in a Spark
worker see docs/execution.md. A year runs in-task when the estimate is at most
``IN_TASK_BUDGET`` = 0.5 GiB: the 0.8 GiB a Python task may use less the ~0.3 GiB a Spark
Python worker holds before the year (interpreter, pyarrow, DuckDB, Arrow buffers), i.e. up to
~4 million cells. The activities x activities matrices (proximity, co-occurrence) do not
count: the in-task path never holds them whole (column blocks of at most 8 MiB,
``lib.measures.product_space.Proximity``), the distributed path holds them in every
product-space task, up to ``lib.execution.distributed.cooccurrence.MAX_ACTIVITIES`` (2,000).
Nor do the nonzeros: the dense cells bound them in-task, and they are what the distributed
path's cost grows with; all three are shown and logged. BACI is far below: HS6, 240 countries
x 5,200 products, is 0.14 GiB: in-task. County Business Patterns (3,100 counties x 1,000
industries) is 0.38 GiB: in-task. 100,000 places x 1,000 activities: distributed.

Must not: touch Spark beyond the one shape aggregation (``year_shapes``), or compute an
indicator.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

IN_TASK = "in_task"
DISTRIBUTED = "distributed"
AUTO = "auto"
GIB = 1024**3
IN_TASK_BUDGET = int(0.5 * GIB)
CELL_BYTES = 120  # per place x activity cell (module docstring)
SIDE_PAIR_BYTES = 40  # per cell of ECI's eigenproblem, on the smaller side
ONES_PER_TASK = 250_000  # the distributed path's nonzeros per task (~6 MB of Arrow input)


@dataclass(frozen=True)
class MatrixShape:
    """One year's place x activity matrix: its size and nonzeros (an upper bound will do)."""

    places: int
    activities: int
    nonzeros: int

    @property
    def in_task_bytes(self) -> int:
        """The in-task path's estimated peak memory for this year (module docstring)."""
        cells = self.places * self.activities
        return CELL_BYTES * cells + SIDE_PAIR_BYTES * min(self.places, self.activities) ** 2


def choose(mode: str, shape: MatrixShape) -> str:
    """``in_task`` or ``distributed`` for a year of ``shape`` under ``execution.matrix``."""
    if mode in (IN_TASK, DISTRIBUTED):
        return mode
    if mode != AUTO:
        raise ValueError(f"execution.matrix must be auto, in_task or distributed: {mode!r}")
    return IN_TASK if shape.in_task_bytes <= IN_TASK_BUDGET else DISTRIBUTED


def choices(mode: str, shapes: dict[int, MatrixShape]) -> dict[int, str]:
    """The path of every year."""
    return {year: choose(mode, shape) for year, shape in shapes.items()}


def distributed_partitions(
    configured: int, shapes: dict[int, MatrixShape], paths: dict[int, str]
) -> int:
    """The distributed path's tasks: ``spark.shuffle_partitions`` at least, and one per
    ``ONES_PER_TASK`` nonzeros of its years, so that the work spreads over a cluster's cores as
    the table grows (100,000 x 1,000 at 2 %, two years: 16 tasks) while each task stays small."""
    nonzeros = sum(shapes[y].nonzeros for y, p in paths.items() if p == DISTRIBUTED and y in shapes)
    return max(configured, -(-nonzeros // ONES_PER_TASK))


def describe(year: int, path: str, shape: MatrixShape) -> str:
    """The progress line's words for a year's decision."""
    return (
        f"{year}: {path} ({shape.places:,} places x {shape.activities:,} activities, "
        f"{shape.nonzeros:,} nonzeros; in-task estimate {shape.in_task_bytes / GIB:.2f} GiB, "
        f"budget {IN_TASK_BUDGET / GIB:.2f} GiB)"
    )


def year_shapes(exports: DataFrame) -> dict[int, MatrixShape]:
    """places, activities and nonzeros of every year of exports rows (year, country_code,
    product, export_value): one aggregation, a row a year on the driver."""
    rows = (
        exports.where(F.col("export_value") > 0)
        .groupBy("year")
        .agg(
            F.countDistinct("country_code").alias("places"),
            F.countDistinct("product").alias("activities"),
            F.count(F.lit(1)).alias("nonzeros"),
        )
        .collect()
    )
    return {
        int(r["year"]): MatrixShape(int(r["places"]), int(r["activities"]), int(r["nonzeros"]))
        for r in rows
    }
