"""The regional report: IPPR's chapter-4 analyses for the places of a place x activity table.

From the indicator tables of a warehouse built by ``jobs/fitness.py --source <place x activity
table>`` (``places``, ``activities``, ``place_activity_dataset``, ``place_activity_year``,
``place_year``, ``place_structure_year``: keyed by ``place`` and ``activity``), pandas frames in,
frames and figures out:

- location quotients by place for an activity group (figure 4.1: manufacturing, SIC section C,
  by default where the classification is SIC or NACE): the group's LQ is the Balassa RCA of the
  places x (group, rest) matrix (``lib.measures.regional.location_quotient``);
- each place's strongest specialisations (highest LQ, latest year);
- the places' complexity ranks (ECI, Fitness) over the years;
- each place's closest opportunities ("adjacent areas"): activities it is not specialised in
  (LQ < 1), by relatedness density.

Figures and page are labelled SYNTHETIC when the dataset is.

Must not compute a regional measure itself: those are ``lib.measures.regional``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from lib.measures.regional import location_quotient
from lib.report.figures import MAIN_COLOUR, PALETTE, add_footer
from lib.report.render import ReportFigure

Reader = Callable[[str, list], pd.DataFrame]

# Tables the regional report writes (data dictionary: docs/report.md).
GROUP_LQ = "regional_group_lq"
SPECIALISATIONS = "regional_specialisations"
COMPLEXITY = "regional_complexity_year"
ADJACENT = "regional_adjacent_activities"
REGIONAL_TABLES = (GROUP_LQ, SPECIALISATIONS, COMPLEXITY, ADJACENT)

# Default activity group per classification family: (parent_activity codes, label).
DEFAULT_GROUPS = {"SIC": (["C"], "manufacturing"), "NACE": (["C"], "manufacturing")}
SYNTHETIC_LABEL = "SYNTHETIC data: illustrative, not official statistics"


class RegionalReportError(ValueError):
    """An input problem of the regional report (named in the message)."""


@dataclass(frozen=True)
class RegionalInputs:
    dataset: dict
    places: pd.DataFrame  # place, place_name
    activities: pd.DataFrame  # activity, activity_name, parent_activity
    grid: pd.DataFrame  # place_activity_year rows of the years
    place_year: pd.DataFrame
    structure: pd.DataFrame  # place_structure_year

    @property
    def synthetic(self) -> bool:
        return bool(self.dataset.get("synthetic"))

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.place_year["year"].unique())

    def place_label(self) -> pd.DataFrame:
        labels = self.places.copy()
        labels["label"] = labels["place_name"].fillna(labels["place"])
        return labels[["place", "label"]]


def load_inputs(read: Reader, years: list[int] | None = None) -> RegionalInputs:
    """The tables the regional report reads (``years``: None = every year)."""
    dataset = read("place_activity_dataset", [])
    if dataset.empty:
        raise RegionalReportError("place_activity_dataset is empty: run jobs/fitness.py first")
    filters = [("year", "in", years)] if years else []
    place_year = read("place_year", filters)
    if place_year.empty:
        raise RegionalReportError(f"no indicators for the years {years}")
    return RegionalInputs(
        dataset.iloc[0].to_dict(),
        read("places", []),
        read("activities", []),
        read("place_activity_year", filters),
        place_year,
        read("place_structure_year", filters),
    )


def default_group(inputs: RegionalInputs) -> tuple[list[str], str] | None:
    """The activity group of figure 4.1 where the classification has one (SIC / NACE:
    section C, manufacturing), else None."""
    classification = str(inputs.dataset.get("activity_classification", "")).upper()
    for family, group in DEFAULT_GROUPS.items():
        if classification.startswith(family):
            return group
    return None


def group_location_quotients(inputs: RegionalInputs, groups: list[str], label: str) -> pd.DataFrame:
    """LQ of the activity group (parent_activity in ``groups``, or activity codes) by place and
    year: year, place, place_name, activity_group, group_value, place_value, lq."""
    in_group = inputs.activities["parent_activity"].isin(groups) | inputs.activities[
        "activity"
    ].isin(groups)
    members = set(inputs.activities.loc[in_group, "activity"])
    if not members:
        raise RegionalReportError(
            f"no activity has parent_activity or code in {groups}: choose --group"
        )
    grid = inputs.grid.assign(in_group=inputs.grid["activity"].isin(members))
    frames = []
    for year, rows in grid.groupby("year"):
        table = rows.pivot_table(
            index="place",
            columns="in_group",
            values="export_value",
            aggfunc="sum",
            fill_value=0.0,
        ).reindex(columns=[True, False], fill_value=0.0)
        lq = location_quotient(table.to_numpy())[:, 0]
        frames.append(
            pd.DataFrame(
                {
                    "year": int(year),
                    "place": table.index.to_numpy(object),
                    "activity_group": label,
                    "group_value": table[True].to_numpy(),
                    "place_value": table.sum(axis=1).to_numpy(),
                    "lq": lq,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True).merge(inputs.place_label(), on="place")
    return out.rename(columns={"label": "place_name"})[
        [
            "year",
            "place",
            "place_name",
            "activity_group",
            "group_value",
            "place_value",
            "lq",
        ]
    ]


def _with_names(rows: pd.DataFrame, inputs: RegionalInputs) -> pd.DataFrame:
    out = rows.merge(inputs.place_label(), on="place").merge(
        inputs.activities[["activity", "activity_name"]], on="activity", how="left"
    )
    return out.rename(columns={"label": "place_name", "rca": "lq"})


# The leading columns of the per-place rankings (strongest specialisations, adjacent activities).
RANKED_COLUMNS = ["year", "place", "place_name", "rank", "activity", "activity_name"]


def _top_per_place(
    rows: pd.DataFrame, column: str, top: int, inputs: RegionalInputs
) -> pd.DataFrame:
    """Each place's ``top`` rows by ``column`` (ties by activity code), ranked from 1, named."""
    rows = rows.sort_values(["place", column, "activity"], ascending=[True, False, True])
    rows = rows.assign(rank=rows.groupby("place").cumcount() + 1)
    return _with_names(rows[rows["rank"] <= top], inputs)


def strongest_specialisations(inputs: RegionalInputs, year: int, top: int) -> pd.DataFrame:
    """Each place's ``top`` activities by LQ in ``year`` (LQ >= 1 only)."""
    rows = inputs.grid[(inputs.grid["year"] == year) & (inputs.grid["mcp"] == 1)]
    out = _top_per_place(rows, "rca", top, inputs)
    return out[[*RANKED_COLUMNS, "lq", "export_value"]].rename(columns={"export_value": "value"})


def adjacent_activities(inputs: RegionalInputs, year: int, top: int) -> pd.DataFrame:
    """Each place's ``top`` activities with LQ < 1 by relatedness density in ``year``."""
    rows = inputs.grid[
        (inputs.grid["year"] == year) & (inputs.grid["mcp"] == 0) & inputs.grid["density"].notna()
    ]
    out = _top_per_place(rows, "density", top, inputs)
    return out[[*RANKED_COLUMNS, "density", "lq", "cog"]]


def complexity_ranks(inputs: RegionalInputs) -> pd.DataFrame:
    """Per place and year: Fitness and ECI with their ranks, and the structure measures."""
    columns = ["year", "place", "fitness", "fitness_rank", "eci", "eci_rank"]
    structure = inputs.structure[
        [
            "year",
            "place",
            "specialisations",
            "krugman_index",
            "herfindahl_index",
            "shannon_entropy",
        ]
    ]
    out = (
        inputs.place_year[columns]
        .merge(structure, on=["year", "place"], how="left")
        .merge(inputs.place_label(), on="place")
        .rename(columns={"label": "place_name"})
    )
    first = ["year", "place", "place_name"]
    return out[first + [c for c in out.columns if c not in first]].sort_values(first[:2])


# --- figures --------------------------------------------------------------------------------


def _mark(fig: Figure, synthetic: bool) -> Figure:
    """Every figure of synthetic data says so at its foot (PNGs travel alone): the country
    report's footer (``lib.report.figures.add_footer``)."""
    if synthetic:
        add_footer(fig, SYNTHETIC_LABEL)
    return fig


def group_lq_bars(lq: pd.DataFrame, year: int, label: str) -> Figure | None:
    """Figure 4.1: the group's LQ by place, highest at the top; dashed line at LQ = 1."""
    rows = lq[lq["year"] == year].sort_values("lq")
    if rows.empty:
        return None
    fig = Figure(figsize=(8, 0.35 * len(rows) + 1.8), layout="constrained")
    ax = fig.subplots()
    colours = [MAIN_COLOUR if v >= 1 else PALETTE[0] for v in rows["lq"]]
    ax.barh(rows["place_name"], rows["lq"], color=colours)
    ax.axvline(1.0, color="#333", linestyle="--", linewidth=1)
    ax.set_xlabel(f"Location quotient, {label}")
    ax.set_title(f"Location quotients by region for {label}, {year}")
    ax.grid(axis="x", alpha=0.3)
    return fig


def _place_panels(rows: pd.DataFrame, value: str, title: str, xlabel: str) -> Figure | None:
    """One small bar chart per place (its rows by rank)."""
    if rows.empty:
        return None
    places = sorted(rows["place_name"].unique())
    ncols = 3
    nrows = int(np.ceil(len(places) / ncols))
    fig = Figure(figsize=(15, 2.3 * nrows + 1), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax, place in zip(axes, places, strict=False):
        mine = rows[rows["place_name"] == place].sort_values("rank", ascending=False)
        labels = [
            _short(p, n) for p, n in zip(mine["activity"], mine["activity_name"], strict=True)
        ]
        ax.barh(labels, mine[value], color=PALETTE[0])
        ax.set_title(place, fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes[len(places) :]:
        ax.set_visible(False)
    for ax in axes[max(0, len(places) - ncols) : len(places)]:  # the bottom panels
        ax.set_xlabel(xlabel, fontsize=8)
    fig.suptitle(title)
    return fig


def _short(code: str, name: object, width: int = 34) -> str:
    text = f"{code} {name}" if isinstance(name, str) and name else str(code)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def rank_lines(ranks: pd.DataFrame, column: str, title: str) -> Figure | None:
    rows = ranks[ranks[column].notna()]
    if rows.empty or rows["year"].nunique() < 1:
        return None
    fig = Figure(figsize=(10, 6), layout="constrained")
    ax = fig.subplots()
    for i, (place, mine) in enumerate(rows.sort_values("year").groupby("place_name")):
        style = "-" if i < len(PALETTE) else "--"
        ax.plot(mine["year"], mine[column], style, marker="o", ms=3, label=place,
                color=PALETTE[i % len(PALETTE)])  # fmt: skip
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(f"{column.replace('_', ' ')} (1 = highest)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncols=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return fig


@dataclass(frozen=True)
class RegionalReport:
    """Everything the page shows and the job writes."""

    year_from: int
    year_to: int
    group_label: str | None
    tables: dict[str, pd.DataFrame]
    figures: list[ReportFigure]
    notes: list[str]


def build_report(
    inputs: RegionalInputs, groups: list[str] | None = None, top: int = 5
) -> RegionalReport:
    """The report's tables and figures (nothing written)."""
    years = inputs.years
    y0, y1 = years[0], years[-1]
    notes = []
    if groups:
        group = (groups, "+".join(groups))
    else:
        group = default_group(inputs)
        if group is None:
            notes.append(
                "No default activity group for the classification "
                f"{inputs.dataset.get('activity_classification')!r}: pass --group to draw "
                "figure 4.1."
            )
    if inputs.synthetic:
        notes.insert(0, f"{SYNTHETIC_LABEL}. {inputs.dataset.get('note') or ''}".strip())
    tables = {
        SPECIALISATIONS: strongest_specialisations(inputs, y1, top),
        COMPLEXITY: complexity_ranks(inputs),
        ADJACENT: adjacent_activities(inputs, y1, top),
    }
    if group is not None:
        tables[GROUP_LQ] = group_location_quotients(inputs, *group)
    figures = list(_figures(inputs, tables, group, y1))
    return RegionalReport(y0, y1, group[1] if group else None, tables, figures, notes)


def _figures(
    inputs: RegionalInputs, tables: dict, group: tuple | None, year: int
) -> Iterator[ReportFigure]:
    kind = str(inputs.dataset.get("place_kind") or "place")
    mark = lambda fig: None if fig is None else _mark(fig, inputs.synthetic)  # noqa: E731
    if group is not None:
        yield ReportFigure(
            "01_group_location_quotients",
            f"Location quotients by {kind} for {group[1]}, {year}",
            "The group's share of the place's total divided by its share of the national total "
            "(IPPR 2014 figure 4.1, after Campos and Prothero 2012); dashed: LQ = 1.",
            mark(group_lq_bars(tables[GROUP_LQ], year, group[1])),
        )
    yield ReportFigure(
        "02_strongest_specialisations",
        f"Strongest specialisations of each {kind}, {year}",
        "Each place's activities with the highest location quotient (LQ >= 1).",
        mark(
            _place_panels(
                tables[SPECIALISATIONS],
                "lq",
                f"Strongest specialisations, {year}",
                "Location quotient",
            )
        ),
    )
    ranks = tables[COMPLEXITY]
    yield ReportFigure(
        "03_complexity_ranks",
        f"Economic complexity rank of each {kind} over the years",
        "ECI rank (eigenvector method) of the places computed on their activity structure "
        "as for countries on their exports; 1 = most complex.",
        mark(rank_lines(ranks, "eci_rank", "ECI rank (1 = most complex)")),
    )
    yield ReportFigure(
        "04_fitness_ranks",
        f"Fitness rank of each {kind} over the years",
        "Fitness rank (Tacchella et al. 2012) on the same matrix; 1 = fittest.",
        mark(rank_lines(ranks, "fitness_rank", "Fitness rank (1 = fittest)")),
    )
    yield ReportFigure(
        "05_adjacent_activities",
        f"Closest opportunities of each {kind} ('adjacent areas'), {year}",
        "Activities a place is not specialised in (LQ < 1), ranked by relatedness density: "
        "the share of the activity's related activities (proximity) the place is specialised in.",
        mark(
            _place_panels(
                tables[ADJACENT],
                "density",
                f"Closest opportunities by relatedness density, {year}",
                "Relatedness density",
            )
        ),
    )
