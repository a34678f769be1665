"""Fitness and Complexity of tall years as distributed matrix updates (Tacchella and NHEFC).

M's ones (year, place, a: the activity's index 0..P-1, ``activity_index``) are cached,
partitioned by (year, place), so that a place's ones are in one task. The small vectors, one
entry per activity (Q, or NHEFC's P, a few thousand floats a year), stay on the driver, with a
few scalars; the place vector F is never stored: each task rebuilds its places' F from the
activity vectors of the previous steps (F_t = M Q_{t-1} / mean, one sparse product). So each
step is ONE Spark job on the same cached DataFrame (``mapInArrow`` with the small vectors in
its closure) whose tasks each return one row a year -- the partial sums over their places
(per activity: s = M^T (1 / F); the mean's sum and count; extremes; the change of F) -- summed
on the driver. WHY not a loop of DataFrame joins: the plan would grow with every step; here
every step's plan is the same two operators, so step 200 costs what step 2 costs
(``bench/distributed_fitness.py`` prints both).

The maps, start, normalisation, tolerance and stopping rule are those of ``lib.measures.fitness``
(``normalised_update``, ``usable``) and ``lib.measures.nhefc`` (``nhefc_update``). One
difference of order only: Tacchella's change max |F_t - F_{t-1}| needs the mean of F~_t, known
after step t's pass, so it is computed by the next pass (one pass more at the end); the
decisions (stop on tolerance, stop before an unusable update) are the same, taken one pass
later, on the same numbers.

GENEPY is not a fixed-point map of this kind: ``fitness.method = genepy`` stays in-task.

Must not: collect place rows on the driver, use RDDs or the SparkContext, or hold a formula of
its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from lib.measures.fitness import normalised_update, usable
from lib.measures.yearly import YearSettings

PARTIAL_SCHEMA = (
    "year int, n long, total double, low double, high double, change double, s array<double>"
)
FITNESS_SCHEMA = "year int, place long, fitness double"


@dataclass
class YearState:
    """The driver's state of one year's iteration: activity vectors by step (the last four)."""

    P: int
    vectors: dict[int, np.ndarray]  # Q_t (tacchella) or P_t (nhefc); t = 0 is ones
    means: dict[int, float] = field(default_factory=dict)  # mean of F~_t (or of F_t), by t
    q_change: dict[int, float] = field(default_factory=dict)
    changes: dict[int, float] = field(default_factory=dict)
    step: int = 0  # the last accepted step
    done: bool = False

    def keep(self, t: int, vector: np.ndarray, mean: float) -> None:
        self.vectors[t], self.means[t] = vector, mean
        for old in [k for k in self.vectors if k < t - 3]:
            del self.vectors[old]

    def finish(self, t: int) -> None:
        self.step, self.done = t, True


@dataclass(frozen=True)
class FitnessRun:
    """The result of every year: ``complexity`` per activity index (on the driver, small),
    ``fitness`` a DataFrame (year, place, fitness), and the stopping record."""

    complexity: dict[int, np.ndarray]
    fitness: DataFrame
    iterations: dict[int, int]
    final_change: dict[int, float]
    pass_seconds: list[float]


def planned_years(plan: dict, batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[int, pa.Table]]:
    """A mapInArrow task's rows as one table, with each year in it that ``plan`` has (the
    kernels below and in ``eci`` run a year at a time; an empty task yields nothing)."""
    batches = list(batches)
    if not batches or not sum(b.num_rows for b in batches):
        return
    table = pa.Table.from_batches(batches)
    for year in np.unique(table.column("year").to_numpy()):
        if int(year) in plan:
            yield int(year), table


def _place_groups(table: pa.Table, year: int):
    part = table.filter(pc.equal(table.column("year"), pa.scalar(year, pa.int32())))
    place = part.column("place").to_numpy()
    a = part.column("a").to_numpy()
    places, inverse = np.unique(place, return_inverse=True)
    return places, inverse, a


def _f(inverse, a, n, Q, m):
    """A task's F of a step from the previous activity vector: M Q / m (or ones at t = 0)."""
    if Q is None:
        return np.ones(n)
    return np.bincount(inverse, weights=Q[a], minlength=n) / m


def _tacchella_pass(state: dict, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """One step for every year in ``state`` (year -> (P, Q_{t-1}, (Q_{t-2}, m_{t-1}) or None,
    (Q_{t-3}, m_{t-2}) or None or False)) over this task's places."""
    for year, table in planned_years(state, batches):
        P, Q1, f1, f2 = state[int(year)]
        places, inverse, a = _place_groups(table, int(year))
        n = places.size
        f_tilde = np.bincount(inverse, weights=Q1[a], minlength=n)
        F1 = _f(inverse, a, n, *(f1 if f1 is not None else (None, None)))
        with np.errstate(divide="ignore"):
            s = np.bincount(a, weights=(1.0 / F1)[inverse], minlength=P)
        change = np.nan
        if f2 is not False:
            F2 = _f(inverse, a, n, *(f2 if f2 is not None else (None, None)))
            change = float(np.max(np.abs(F1 - F2)))
        yield _partial(year, n, f_tilde.sum(), f_tilde.min(), f_tilde.max(), change, s)


def _nhefc_pass(state: dict, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """One NHEFC step for every year in ``state`` (year -> (P, delta, P_{t-1}, P_{t-2} or
    None)): F_t, s = M^T (1 / F_{t-1}), max |log(F_t / F_{t-1})|, and sum F_t."""
    for year, table in planned_years(state, batches):
        P, delta, P1, P2 = state[int(year)]
        places, inverse, a = _place_groups(table, int(year))
        n = places.size
        F_t = delta**2 + np.bincount(inverse, weights=(1.0 / P1)[a], minlength=n)
        F1 = (
            np.ones(n)
            if P2 is None
            else delta**2 + np.bincount(inverse, weights=(1.0 / P2)[a], minlength=n)
        )
        s = np.bincount(a, weights=(1.0 / F1)[inverse], minlength=P)
        change = float(np.abs(np.log(F_t / F1)).max())
        yield _partial(year, n, F_t.sum(), F_t.min(), F_t.max(), change, s)


def _partial(year, n, total, low, high, change, s) -> pa.RecordBatch:
    offsets = pa.array([0, s.size], pa.int32())
    return pa.RecordBatch.from_arrays(
        [
            pa.array([int(year)], pa.int32()),
            pa.array([int(n)], pa.int64()),
            pa.array([float(total)], pa.float64()),
            pa.array([float(low)], pa.float64()),
            pa.array([float(high)], pa.float64()),
            pa.array([change], pa.float64()),
            pa.ListArray.from_arrays(offsets, pa.array(s, pa.float64())),
        ],
        names=["year", "n", "total", "low", "high", "change", "s"],
    )


@dataclass(frozen=True)
class Summed:
    n: int
    total: float
    low: float
    high: float
    change: float
    s: np.ndarray


def _run_pass(ones: DataFrame, kernel, state: dict) -> dict[int, Summed]:
    """One Spark job over the cached ones: the tasks' partial rows, summed per year."""
    from functools import partial

    rows = ones.mapInArrow(partial(kernel, state), PARTIAL_SCHEMA).toArrow()
    out = {}
    years = rows.column("year").to_numpy()
    for year in np.unique(years):
        part = rows.filter(pc.equal(rows.column("year"), pa.scalar(int(year), pa.int32())))
        s = np.stack([np.asarray(v, dtype=np.float64) for v in part.column("s").to_pylist()])
        changes = part.column("change").to_numpy(zero_copy_only=False)
        out[int(year)] = Summed(
            int(part.column("n").to_numpy().sum()),
            float(part.column("total").to_numpy().sum()),
            float(part.column("low").to_numpy().min()),
            float(part.column("high").to_numpy().max()),
            float(np.max(changes)) if np.isfinite(changes).all() else np.nan,
            s.sum(axis=0),
        )
    return out


def cached_ones(indexed: DataFrame, partitions: int) -> DataFrame:
    """year, place, a of M's ones, partitioned by (year, place) and cached (the iteration reads
    them every step)."""
    return (
        indexed.select("year", "place", "a")
        .repartition(partitions, "year", "place")
        .persist(StorageLevel.MEMORY_AND_DISK)
    )


def distributed_fitness(
    spark: SparkSession, ones: DataFrame, activities: dict[int, int], settings: YearSettings
) -> FitnessRun:
    """Fitness and complexity of every year of ``ones`` (``cached_ones``; ``activities``: P of
    each year) by ``settings.fitness_method`` (tacchella or nhefc)."""
    if settings.fitness_method == "nhefc":
        return _nhefc(spark, ones, activities, settings)
    if settings.fitness_method != "tacchella":
        raise ValueError(
            f"fitness.method = {settings.fitness_method} has no distributed form: use "
            "execution.matrix = in_task (docs/execution.md)"
        )
    return _tacchella(spark, ones, activities, settings)


def _iterate(ones, kernel, states, plan_of, update) -> list[float]:
    """Run passes until every year is done; ``plan_of(state, t)`` is a year's input to pass
    t, ``update(state, t, summed)`` its decision after it."""
    seconds, t = [], 0
    while any(not st.done for st in states.values()):
        t += 1
        plan = {y: plan_of(st, t) for y, st in states.items() if not st.done}
        start = time.perf_counter()
        summed = _run_pass(ones, kernel, plan)
        seconds.append(time.perf_counter() - start)
        for y in plan:
            update(states[y], t, summed[y])
    return seconds


def _tacchella(spark, ones, activities, settings) -> FitnessRun:
    N, tol = settings.max_iterations, settings.tolerance
    states = {y: YearState(P, {0: np.ones(P)}) for y, P in activities.items() if P}

    def plan_of(st: YearState, t: int):
        Q = st.vectors
        f1 = (Q[t - 2], st.means[t - 1]) if t >= 2 else None
        f2 = False if t < 2 else ((Q[t - 3], st.means[t - 2]) if t >= 3 else None)
        return (st.P, Q[t - 1], f1, f2)

    def update(st: YearState, t: int, r: Summed) -> None:
        if t >= 2:  # the change of step t - 1 is known now: decide on it
            st.changes[t - 1] = max(r.change, st.q_change[t - 1])
            if t - 1 == N or (tol > 0 and st.changes[t - 1] < tol):
                return st.finish(t - 1)
        m_t = r.total / r.n
        _, Q_t = normalised_update(np.array([m_t]), r.s)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            F_range = np.array([r.low / m_t, r.high / m_t])
        if not (usable(F_range) and usable(Q_t)):
            return st.finish(t - 1)  # underflow: keep the last finite iterate
        st.q_change[t] = float(np.max(np.abs(Q_t - st.vectors[t - 1])))
        st.keep(t, Q_t, m_t)

    seconds = _iterate(ones, _tacchella_pass, states, plan_of, update)
    complexity = {y: st.vectors[st.step] for y, st in states.items()}
    plan = {
        y: ("tacchella", st.vectors[st.step - 1], st.means[st.step]) if st.step else None
        for y, st in states.items()
    }
    return _run(ones, states, complexity, plan, seconds)


def _nhefc(spark, ones, activities, settings) -> FitnessRun:
    N, tol, delta = settings.max_iterations, settings.tolerance, settings.nhefc_delta
    if delta <= 0:
        raise ValueError(f"delta must be positive, got {delta}")
    states = {y: YearState(P, {0: np.ones(P)}) for y, P in activities.items() if P}

    def plan_of(st: YearState, t: int):
        return (st.P, delta, st.vectors[t - 1], st.vectors.get(t - 2) if t >= 2 else None)

    def update(st: YearState, t: int, r: Summed) -> None:
        P_t = 1.0 + r.s
        change = max(r.change, float(np.abs(np.log(P_t / st.vectors[t - 1])).max()))
        st.keep(t, P_t, r.total / r.n)
        st.changes[t] = change
        if t == N or (tol > 0 and change < tol):
            st.finish(t)

    seconds = _iterate(ones, _nhefc_pass, states, plan_of, update)
    # Q = 1 / (M^T (1 / F_k)): one more pass, from the last two P vectors.
    last = {
        y: (st.P, delta, st.vectors[st.step], st.vectors[st.step - 1]) for y, st in states.items()
    }
    summed = _run_pass(ones, _nhefc_pass, last)
    complexity = {}
    for y in states:
        Q = 1.0 / summed[y].s
        complexity[y] = Q / Q.mean()
    plan = {
        y: ("nhefc", delta, st.vectors[st.step - 1], st.means[st.step]) for y, st in states.items()
    }
    return _run(ones, states, complexity, plan, seconds)


def _run(ones, states, complexity, plan, seconds) -> FitnessRun:
    fitness = ones.mapInArrow(lambda b: _fitness_rows(plan, b), FITNESS_SCHEMA)
    return FitnessRun(
        complexity,
        fitness,
        {y: st.step for y, st in states.items()},
        {y: st.changes.get(st.step, np.nan) for y, st in states.items()},
        seconds,
    )


def _fitness_rows(plan: dict, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for year, table in planned_years(plan, batches):
        places, inverse, a = _place_groups(table, int(year))
        spec = plan[int(year)]
        if spec is None:  # no step taken: F = 1
            F = np.ones(places.size)
        elif spec[0] == "tacchella":  # F_k = M Q_{k-1} / mean
            F = _f(inverse, a, places.size, spec[1], spec[2])
        else:  # nhefc: F_k = delta^2 + M (1 / P_{k-1}), over its mean
            _, delta, P1, mean = spec
            F = (
                delta**2 + np.bincount(inverse, weights=(1.0 / P1)[a], minlength=places.size)
            ) / mean
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(np.full(places.size, int(year), np.int32)),
                pa.array(places, pa.int64()),
                pa.array(F, pa.float64()),
            ],
            names=["year", "place", "fitness"],
        )
