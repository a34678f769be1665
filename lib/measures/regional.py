"""Cluster and specialisation measures of places (regions, countries) and activities, in numpy.

The input is one year's matrix X of a place x activity table (employment by region and
industry, exports by country and product): places in rows, activities in columns, X >= 0.
Definitions follow the R package EconGeo (Balland), on shares instead of its rounded,
0-100 outputs:

- location quotient LQ_pa = (X_pa / X_p) / (X_a / X): the Balassa RCA of ``lib.measures.rca``, the
  one the yearly core uses (not a second implementation); M_pa = 1 where LQ >= the RCA
  threshold;
- per place: Krugman specialisation index K_p = sum_a |X_pa / X_p - X_a / X| (0 = the
  national structure, up to 2), Herfindahl index H_p = sum_a (X_pa / X_p)^2 (1 / n_activities
  to 1), Shannon entropy E_p = -sum_a s log2 s with s = X_pa / X_p (bits; 0 log 0 = 0);
- per activity: Hoover index Ho_a = 1/2 sum_p |X_pa / X_a - X_p / X| (0 = spread like all
  activities, up to 1; EconGeo prints it x 100), and the locational Gini (Krugman 1991): the
  area between the diagonal and the localisation curve, places sorted by LQ ascending,
  cumulative share of the activity against cumulative share of all activities (0 to 0.5);
- relatedness density: the product space's density (``lib.measures.product_space``; EconGeo's
  relatedness_density / 100) with the proximity of the activities as relatedness;
- between two years: a place *enters* an activity where M goes 0 -> 1 and *exits* where it
  goes 1 -> 0 (a place or activity absent in one year counts as M = 0 there, as in EconGeo's
  entry_list / exit_list).

A place with no activity (X_p = 0) or an activity with no place (X_a = 0) gets NaN.

Pure numpy: must not know about Spark, tables or the config.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lib.measures.product_space import density_and_outlook_matrix
from lib.measures.rca import revealed_comparative_advantage
from lib.measures.yearly import YearPresence


def location_quotient(X: np.ndarray) -> np.ndarray:
    """LQ of every place x activity (0 where X_pa = 0): the project's one RCA (``lib.measures.rca``)."""
    return revealed_comparative_advantage(X)[0]


def _place_shares(X: np.ndarray) -> np.ndarray:
    """X_pa / X_p, NaN rows for places with no activity."""
    X = np.asarray(X, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return X / X.sum(axis=1, keepdims=True)


def _total_shares(X: np.ndarray, axis: int) -> np.ndarray:
    """Share of each activity (axis=0) or place (axis=1) in the total."""
    X = np.asarray(X, dtype=np.float64)
    total = X.sum()
    return X.sum(axis=axis) / total if total > 0 else np.full(X.shape[1 - axis], np.nan)


def krugman_index(X: np.ndarray) -> np.ndarray:
    """Krugman specialisation index of each place: sum_a |X_pa/X_p - X_a/X|."""
    return np.abs(_place_shares(X) - _total_shares(X, 0)[None, :]).sum(axis=1)


def herfindahl_index(X: np.ndarray) -> np.ndarray:
    """Herfindahl index of each place's structure: sum_a (X_pa/X_p)^2."""
    return (_place_shares(X) ** 2).sum(axis=1)


def shannon_entropy(X: np.ndarray) -> np.ndarray:
    """Shannon entropy (bits) of each place's structure: -sum_a s log2 s, s = X_pa/X_p."""
    s = _place_shares(X)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(s > 0, s * np.log2(s), 0.0)
    out = -terms.sum(axis=1)
    out[np.isnan(s).all(axis=1)] = np.nan
    return out


def hoover_index(X: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Hoover index of each activity: 1/2 sum_p |X_pa/X_a - R_p/R| (0 to 1), where R is the
    places' ``reference`` distribution (e.g. population), by default their total X_p."""
    X = np.asarray(X, dtype=np.float64)
    R = X.sum(axis=1) if reference is None else np.asarray(reference, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        activity_shares = X / X.sum(axis=0, keepdims=True)
    return 0.5 * np.abs(activity_shares - (R / R.sum())[:, None]).sum(axis=0)


def locational_gini(X: np.ndarray) -> np.ndarray:
    """Locational Gini of each activity: area between the diagonal and its localisation curve
    (places by LQ ascending; x = cumulative share of all activities, y = of this activity)."""
    X = np.asarray(X, dtype=np.float64)
    size = X.sum(axis=1)
    places = size > 0  # a place with nothing adds a zero-width step
    X, size = X[places], size[places]
    out = np.full(X.shape[1], np.nan)
    if not X.size:
        return out
    x_share = size / size.sum()
    for a in range(X.shape[1]):
        column = X[:, a]
        if column.sum() <= 0:
            continue
        order = np.argsort(column / size, kind="stable")
        x = np.concatenate([[0.0], np.cumsum(x_share[order])])
        y = np.concatenate([[0.0], np.cumsum(column[order]) / column.sum()])
        under = np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2)  # trapezoids under the curve
        out[a] = 0.5 - under
    return out


def relatedness_density(M: np.ndarray, diagonal: float = 0.0) -> np.ndarray:
    """Relatedness density of every place x activity (0 to 1; EconGeo's relatedness_density /
    100) with the proximity of M's activities as relatedness (``diagonal``: phi_aa): the
    product space's density (``lib.measures.product_space``), NaN for inactive places or activities."""
    M = np.asarray(M, dtype=np.float64)
    return density_and_outlook_matrix(M, np.zeros(M.shape[1]), diagonal).density


def entries_and_exits(M_before: np.ndarray, M_after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean matrices of the specialisations entered (0 -> 1) and exited (1 -> 0) between two
    aligned 0/1 matrices (same places and activities, in the same order)."""
    before, after = np.asarray(M_before) > 0, np.asarray(M_after) > 0
    return after & ~before, before & ~after


@dataclass(frozen=True)
class RegionalMeasures:
    """The year's measures over the kept places (rows of ``presence.M``) and activities."""

    krugman: np.ndarray
    herfindahl: np.ndarray
    entropy: np.ndarray
    hoover: np.ndarray
    locational_gini: np.ndarray


def regional_measures(presence: YearPresence) -> RegionalMeasures:
    """The specialisation and concentration measures of one year's presence matrices (its
    values X; the LQ and M are ``presence.rca`` and ``presence.M``)."""
    X = presence.X
    return RegionalMeasures(
        krugman_index(X),
        herfindahl_index(X),
        shannon_entropy(X),
        hoover_index(X),
        locational_gini(X),
    )


def place_structure_rows(year: int, presence: YearPresence) -> dict[str, pd.DataFrame]:
    """Rows of the yearly place and activity measure tables (``place_structure_year``,
    ``activity_concentration_year``) for the kept places and activities."""
    measures = regional_measures(presence)
    places, activities = presence.codes
    place = pd.DataFrame(
        {
            "year": np.full(places.size, year, dtype=np.int32),
            "country_code": places.astype(np.int32),
            "total_value": presence.X.sum(axis=1),
            "specialisations": presence.M.sum(axis=1).astype(np.int32),
            "krugman_index": measures.krugman,
            "herfindahl_index": measures.herfindahl,
            "shannon_entropy": measures.entropy,
        }
    )
    activity = pd.DataFrame(
        {
            "year": np.full(activities.size, year, dtype=np.int32),
            "product": activities.astype(str).astype(object),
            "total_value": presence.X.sum(axis=0),
            "specialised_places": presence.M.sum(axis=0).astype(np.int32),
            "hoover_index": measures.hoover,
            "locational_gini": measures.locational_gini,
        }
    )
    return {"place": place, "activity": activity}


def specialisation_changes(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Entries and exits between two years' long M rows (``country_code, product, mcp``, one
    row per pair): ``country_code, product, change`` with change 'entry' or 'exit'."""
    years = []
    for frame in (before, after):
        ones = frame[frame["mcp"] > 0]
        years.append(
            (
                ones["country_code"].to_numpy(np.int64),
                ones["product"].astype(str).to_numpy(object),
            )
        )
    places = np.union1d(years[0][0], years[1][0])
    activities = np.union1d(years[0][1].astype(str), years[1][1].astype(str))
    matrices = []
    for codes, products in years:
        m = np.zeros((places.size, activities.size))
        m[np.searchsorted(places, codes), np.searchsorted(activities, products.astype(str))] = 1.0
        matrices.append(m)
    entered, exited = entries_and_exits(*matrices)
    frames = []
    for mask, change in ((entered, "entry"), (exited, "exit")):
        r, c = np.nonzero(mask)
        frames.append(
            pd.DataFrame(
                {
                    "country_code": places[r].astype(np.int32),
                    "product": activities[c].astype(object),
                    "change": change,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
