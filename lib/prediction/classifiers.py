"""The machine-learning methods: one scikit-learn classifier per activity (Albora et al., "Product
progression", Scientific Reports 2023; fermi-cref's ``ECPredictor.predict_ml_by_rowstack``).

For a year t and an activity p: the training rows are the places active at every year s with
s + h <= t (s + h in the data), stacked in (year, place) order; the features of a row are the
place's RCA in every activity seen by year t (0 where it had none), its label M_{c,p} at s + h.
The fitted classifier scores the places active at t from their RCA row at t; a candidate's score
is its predicted probability. A label that never varies gives that constant as the score.
``random_forest``: ``RandomForestClassifier(n_estimators=trees, random_state=seed)``;
``gradient_boosting``: ``HistGradientBoostingClassifier(max_iter=trees, random_state=seed,
early_stopping=False)``.

Parallelism: the activities are dealt into ``ml_tasks`` groups (activity i of the sorted list to
group i mod ml_tasks) and each group is one Spark task (exactly one partition per group, placed
as the yearly tasks are: ``lib.execution.years.one_partition_per_year``), which
fits its activities' classifiers one after the other (n_jobs = 1). WHY groups and not one task per
activity: every classifier needs the whole RCA matrix of every year as features, so each task
receives a copy of it; one copy per activity would ship activities x the matrix. A task holds the
matrix as float32: places x years x activities x 4 bytes (250 x 30 x 5,000: 150 MB at HS6).

Must not: use a row of a year after t, or a label of a year after t, for a score of year t.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lib.execution.years import one_partition_per_year
from lib.prediction.settings import GRADIENT_BOOSTING, RANDOM_FOREST, PredictionSettings

SCORES_SCHEMA = T.StructType(
    [
        T.StructField("year", T.IntegerType(), False),
        T.StructField("country_code", T.IntegerType(), False),
        T.StructField("product", T.StringType(), False),
        T.StructField("score", T.DoubleType(), False),
    ]
)


def make_classifier(method: str, settings: PredictionSettings):
    """The scikit-learn estimator of ``method`` (single-threaded: Spark runs them in parallel)."""
    if method == RANDOM_FOREST:
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(
            n_estimators=settings.trees, random_state=settings.seed, n_jobs=1
        )
    if method == GRADIENT_BOOSTING:
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=settings.trees, random_state=settings.seed, early_stopping=False
        )
    raise ValueError(f"not a classifier method: {method!r}")


def place_rows(grid: DataFrame) -> DataFrame:
    """One row per (year, place): its products and RCA (arrays, every pair of the grid) and
    the products it has (M = 1)."""
    return grid.groupBy("year", "country_code").agg(
        F.collect_list("product").alias("products"),
        F.collect_list("rca").alias("rcas"),
        F.collect_list(F.when(F.col("mcp") == 1, F.col("product"))).alias("present"),
    )


def _fit_group(
    method: str, settings: PredictionSettings, products: list[str], groups: int
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    index = {p: i for i, p in enumerate(products)}
    h = settings.horizon

    def run(rows: pd.DataFrame) -> pd.DataFrame:
        group = int(rows["group"].iloc[0])
        mine = [i for i in range(len(products)) if i % groups == group]
        rows = rows.sort_values(["year", "country_code"], kind="stable").reset_index(drop=True)
        n = len(rows)
        X = np.zeros((n, len(products)), dtype=np.float32)
        has = np.zeros((n, len(products)), dtype=bool)  # the pair is in the year's grid
        M = np.zeros((n, len(products)), dtype=bool)
        for r, (names, rcas, present) in enumerate(
            zip(rows["products"], rows["rcas"], rows["present"], strict=True)
        ):
            columns = np.fromiter((index[p] for p in names), dtype=np.int64, count=len(names))
            X[r, columns] = np.asarray(rcas, dtype=np.float32)
            has[r, columns] = True
            M[r, [index[p] for p in present]] = True
        year = rows["year"].to_numpy()
        country = rows["country_code"].to_numpy()
        active = M.any(axis=1)
        row_of = {(int(y), int(c)): r for r, (y, c) in enumerate(zip(year, country, strict=True))}
        later = np.array(
            [row_of.get((int(y) + h, int(c)), -1) for y, c in zip(year, country, strict=True)]
        )
        years = {int(y) for y in year}
        out = []
        for t in sorted(years):
            train = active & (year + h <= t) & np.isin(year + h, list(years))
            test = active & (year == t)
            if not train.any() or not test.any():
                continue
            seen = has[year <= t].any(axis=0)  # the activities of the data up to t
            X_train, X_test = X[np.ix_(train, seen)], X[np.ix_(test, seen)]
            labels = np.where(later[train, None] >= 0, M[later[train]], False)
            for p in mine:
                if not seen[p]:
                    continue
                y = labels[:, p].astype(np.int64)
                if y.min() == y.max():
                    scores = np.full(int(test.sum()), float(y[0]))
                else:
                    model = make_classifier(method, settings).fit(X_train, y)
                    scores = model.predict_proba(X_test)[:, 1]
                out.append(
                    pd.DataFrame(
                        {
                            "year": np.int32(t),
                            "country_code": country[test].astype(np.int32),
                            "product": products[p],
                            "score": scores.astype(np.float64),
                        }
                    )
                )
        if not out:
            return pd.DataFrame({f.name: [] for f in SCORES_SCHEMA.fields})
        return pd.concat(out, ignore_index=True)

    return run


def _each_group(
    fit: Callable[[pd.DataFrame], pd.DataFrame],
) -> Callable[[Iterator[pd.DataFrame]], Iterator[pd.DataFrame]]:
    """A ``mapInPandas`` function fitting each activity group of its partition (one group a
    partition after ``one_partition_per_year``)."""

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        frames = list(batches)
        if not frames:
            return
        for _, rows in pd.concat(frames, ignore_index=True).groupby("group", sort=True):
            yield fit(rows)

    return run


def classifier_scores(method: str, grid: DataFrame, settings: PredictionSettings) -> DataFrame:
    """year, country_code, product, method, score of every place active at t and activity seen
    by t (years with a training year before them only); the yearly core keeps the candidates'."""
    products = sorted(r[0] for r in grid.select("product").distinct().collect())  # codes only
    groups = max(1, min(settings.ml_tasks, len(products)))
    spark = grid.sparkSession
    copies = spark.range(0, groups, numPartitions=1).select(F.col("id").cast("int").alias("group"))
    scores = (
        place_rows(grid)
        .crossJoin(copies)
        .transform(lambda df: one_partition_per_year(df, list(range(groups)), column="group"))
        .mapInPandas(_each_group(_fit_group(method, settings, products, groups)), SCORES_SCHEMA)
    )
    return scores.withColumn("method", F.lit(method))
