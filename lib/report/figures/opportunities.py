"""The report's "where to go next" figure: the report country's best opportunities by each
method, beside how well each method has predicted in the past (docs/prediction.md).

Top row: one panel per method, the country's ``top`` candidates of year t by score (rank 1 at
the top), from ``product_opportunities``. Bottom row: the backtests by year t (outcome at
t + h): ROC-AUC of every method over all countries (``prediction_backtest``), and precision@k
over all countries (solid), for the report country alone (dashed,
``prediction_backtest_place``) and the base rate (positives / candidates, dotted grey): a
precision@k means something only against it.

Must not compute a score or a metric: it draws the prediction tables' rows.
"""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from lib.report.countries import Country
from lib.report.figures.style import PALETTE, _year_axis

METHOD_LABELS = {
    "density": "density (proximity)",
    "bicm_density": "density (BiCM-validated links)",
    "random_forest": "random forest",
    "gradient_boosting": "gradient boosting",
}


def _label(code: str, description: object, width: int = 38) -> str:
    text = f"{code} {description}" if isinstance(description, str) and description else str(code)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def method_colours(methods) -> dict[str, str]:
    return {m: PALETTE[i % len(PALETTE)] for i, m in enumerate(sorted(methods))}


def where_to_go_next(
    opportunities: pd.DataFrame,
    backtest: pd.DataFrame,
    backtest_place: pd.DataFrame,
    country: Country,
    year: int,
    top: int = 10,
) -> Figure | None:
    """``opportunities``: the country's rows of ``year`` (method, product, score, rank,
    description); ``backtest``: every row; ``backtest_place``: the country's rows."""
    mine = opportunities[opportunities["rank"] <= top]
    if mine.empty:
        return None
    methods = sorted(mine["method"].unique())
    colours = method_colours(set(methods) | set(backtest.get("method", pd.Series()).unique()))
    fig = Figure(figsize=(max(11, 4.6 * len(methods)), 9.5), layout="constrained")
    upper, lower = fig.subfigures(2, 1, height_ratios=[1.15, 1])
    for ax, method in zip(upper.subplots(1, len(methods), squeeze=False)[0], methods, strict=True):
        rows = mine[mine["method"] == method].sort_values("rank", ascending=False)
        ax.set_title(f"{METHOD_LABELS.get(method, method)}", fontsize=10)
        if not (rows["score"] > 0).any():  # e.g. bicm_density without a validated link
            ax.text(0.5, 0.5, "every score is 0:\nno ranking to show", ha="center", va="center")
            ax.set_axis_off()
            continue
        labels = [_label(p, d) for p, d in zip(rows["product"], rows["description"], strict=True)]
        ax.barh(range(len(rows)), rows["score"], color=colours[method])
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.set_xlabel("score (higher = more likely)")
    upper.suptitle(f"{country.label}: top {top} products not yet exported, scored in {year}")
    roc, precision = lower.subplots(1, 2)
    if backtest.empty:
        for ax in (roc, precision):
            ax.text(0.5, 0.5, "no backtest year yet\n(t + horizon not in the data)", ha="center")
            ax.set_axis_off()
        return fig
    for method, rows in backtest.sort_values("train_year").groupby("method"):
        colour = colours[method]
        label = METHOD_LABELS.get(method, method)
        roc.plot(rows["train_year"], rows["roc_auc"], "o-", color=colour, label=label)
        precision.plot(rows["train_year"], rows["precision_at_k"], "o-", color=colour)
        own = backtest_place[backtest_place["method"] == method].sort_values("train_year")
        if len(own):
            precision.plot(own["train_year"], own["precision_at_k"], "s--", color=colour)
    base = backtest.groupby("train_year")[["positives", "candidates"]].first()
    precision.plot(base.index, base["positives"] / base["candidates"], ":", color="#888888")
    roc.axhline(0.5, color="#888888", linestyle=":", linewidth=1)
    roc.set_ylabel("ROC-AUC (0.5 = guessing)")
    roc.set_title("All countries: ROC-AUC", fontsize=10)
    roc.legend(fontsize=8, loc="lower left")
    horizon = int(backtest["horizon"].iloc[0])
    precision.set_ylabel(
        f"precision@k (k = {int(backtest_place['k'].max()) if len(backtest_place) else '?'} per country)"
    )
    precision.set_title(
        f"precision@k: all countries (solid), {country.label} (dashed),\nbase rate (dotted)",
        fontsize=10,
    )
    for ax in (roc, precision):
        ax.set_xlabel(f"year t scored (outcome checked at t + {horizon})")
        _year_axis(ax)
    lower.suptitle("How each method did in the past (backtest)")
    return fig
