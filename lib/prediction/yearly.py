"""One year's opportunity scores, ranks and backtests, in numpy / pandas: the prediction core.

``year_tables(year, now, later, scores, ...)`` takes year t's grid rows (``now``: country_code,
product, rca, mcp, density: every pair of the year's matrix), the presence at t + h (``later``:
country_code, product, mcp; None when t + h is not in the data) and the scores of the other
methods (``scores``: country_code, product, method, score, e.g. the classifiers'), and returns
the year's rows of product_opportunities, prediction_backtest and prediction_backtest_place.

Candidates (the issue's definition): the pairs of year t's matrix whose place and activity are
both active (at least one M = 1 that year) and whose RCA at t is below ``entry_below``;
zero-export pairs included. Outcome: M at t + h, 0 where the pair is not in that year's matrix.
``density``'s score is the density of ``country_product_year`` (``lib.measures.product_space``;
never recomputed here), 0 where undefined -- what fermi-cref's ``ECPredictor.predict_network``
gives there. ``bicm_density`` is the same density kernel (``density_matrix``) over the
BiCM-validated links of year t's active M (``lib.measures.validated_links``) instead of the
proximity, 0 where a product has no validated link. Ranks: by decreasing score within (place, method), ties by product. The metrics
(``lib.prediction.metrics``) of a (method, year) take the candidates in (place, product) order,
with the cut-off k x the places with candidates; a place's precision@k is over its own top k.

Must not: use ``later`` for anything but the outcomes, or read any other year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.measures.product_space import density_matrix
from lib.measures.validated_links import active_projection
from lib.prediction import metrics
from lib.prediction.settings import BICM_DENSITY, DENSITY

PAIR = ["country_code", "product"]


def candidates(now: pd.DataFrame, entry_below: float) -> pd.DataFrame:
    """country_code, product, density of the year's candidates (density 0 where undefined)."""
    has = now["mcp"].to_numpy() > 0
    places = now.loc[has, "country_code"].unique()
    activities = now.loc[has, "product"].unique()
    keep = (
        now["country_code"].isin(places)
        & now["product"].isin(activities)
        & (now["rca"].to_numpy() < entry_below)
    )
    out = now.loc[keep, [*PAIR, "density"]].copy()
    out["density"] = out["density"].astype(np.float64).fillna(0.0)
    return out


def bicm_density(now: pd.DataFrame, alpha: float, validation: str) -> pd.DataFrame:
    """country_code, product, score: the density over the BiCM-validated links of the
    year's active M (every active place x active activity; 0 where undefined)."""
    present = now.loc[now["mcp"].to_numpy() > 0, PAIR]
    c, places = pd.factorize(present["country_code"], sort=True)
    p, activities = pd.factorize(present["product"], sort=True)
    M = np.zeros((places.size, activities.size))
    M[c, p] = 1.0
    projection, _ = active_projection(M, activities, alpha, validation)
    scores = np.nan_to_num(density_matrix(M, projection.adjacency()))
    return pd.DataFrame(
        {
            "country_code": np.repeat(np.asarray(places), activities.size),
            "product": np.tile(np.asarray(activities, dtype=object), places.size),
            "score": scores.reshape(-1),
        }
    )


def scored_candidates(
    pairs: pd.DataFrame,
    scores: pd.DataFrame | None,
    methods: tuple[str, ...],
    now: pd.DataFrame | None = None,
    bicm: tuple[float, str] = (0.05, "fdr"),
) -> pd.DataFrame:
    """country_code, product, method, score of every method on the candidates, sorted by
    (method, place, product); a method scores only the candidates it has scores for.
    ``bicm_density`` is computed here from ``now`` (year t's rows), ``bicm`` its (alpha,
    validation)."""
    frames = []
    for method in methods:
        if method == DENSITY:
            frame = pairs[PAIR].assign(method=DENSITY, score=pairs["density"].to_numpy())
        elif method == BICM_DENSITY and now is not None:
            theirs = bicm_density(now, *bicm)
            frame = pairs[PAIR].merge(theirs, on=PAIR, how="left").assign(method=BICM_DENSITY)
        elif scores is not None and len(scores):
            theirs = scores[scores["method"] == method][[*PAIR, "score"]]
            frame = pairs[PAIR].merge(theirs, on=PAIR).assign(method=method)
        else:
            continue
        frames.append(frame[[*PAIR, "method", "score"]])
    if not frames:
        return pd.DataFrame({"country_code": [], "product": [], "method": [], "score": []})
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["method", *PAIR], kind="stable").reset_index(drop=True)


def ranked(scored: pd.DataFrame) -> pd.Series:
    """1, 2, ... by decreasing score within (place, method), ties by product."""
    order = scored.sort_values(
        ["method", "country_code", "score", "product"],
        ascending=[True, True, False, True],
        kind="stable",
    )
    ranks = order.groupby(["method", "country_code"], sort=False).cumcount() + 1
    return ranks.reindex(scored.index).astype(np.int32)


def year_tables(
    year: int,
    now: pd.DataFrame,
    later: pd.DataFrame | None,
    scores: pd.DataFrame | None,
    methods: tuple[str, ...],
    entry_below: float,
    horizon: int,
    k: int,
    bicm: tuple[float, str] = (0.05, "fdr"),
) -> dict[str, pd.DataFrame]:
    """The year's opportunities, backtest and per-place rows (see module doc); ``bicm``:
    (alpha, validation) of ``bicm_density``'s links."""
    scored = scored_candidates(candidates(now, entry_below), scores, methods, now, bicm)
    scored["rank"] = ranked(scored)
    scored["year"] = np.int32(year)
    out = {"opportunities": scored}
    if later is None:
        return out
    present = later.loc[later["mcp"].to_numpy() > 0, PAIR].assign(present=1)
    labelled = scored.merge(present, on=PAIR, how="left")
    labelled["present"] = labelled["present"].fillna(0).astype(np.int64)
    common = {"train_year": year, "target_year": year + horizon, "horizon": horizon}
    rows, places = [], []
    for method, group in labelled.groupby("method", sort=True):  # in (place, product) order
        n_places = group["country_code"].nunique()
        result = metrics.backtest(
            group["present"].to_numpy(), group["score"].to_numpy(), k * n_places
        )
        rows.append({"method": method, **common, **result.__dict__})
        in_list = group["rank"].to_numpy() <= k
        per_place = (
            group.assign(hits=np.where(in_list, group["present"], 0))
            .groupby("country_code", sort=True)
            .agg(candidates=("present", "size"), positives=("present", "sum"), hits=("hits", "sum"))
            .reset_index()
        )
        per_place["k"] = np.minimum(k, per_place["candidates"])
        per_place["precision_at_k"] = per_place["hits"] / per_place["k"]
        places.append(per_place.assign(method=method, **common))
    out["backtest"] = pd.DataFrame(rows)
    if places:
        out["place"] = pd.concat(places, ignore_index=True)
    return out
