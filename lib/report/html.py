"""One self-contained HTML page: figures embedded as base64 PNG, captions, summary tables.

WHY self-contained: the page is mailed around and opened offline; it must not depend on the PNG
files next to it or on any web resource.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lib.datasets.provenance import SYNTHETIC_BANNER, DataSource
from lib.report.frames import ReportParams
from lib.report.render import ReportFigure

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1100px; color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .meta { color: #555; font-size: 0.9rem; }
figure { margin: 2rem 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 0.9rem; color: #444; } .skipped { color: #8a6d3b; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }
td.num { text-align: right; } .note { background: #fff8e1; padding: 0.5rem 1rem; }
.synthetic { background: #fdecea; border: 2px solid #b00020; color: #6d0014; padding: 0.6rem 1rem;
             font-weight: 600; }
"""


def _table_html(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "<p><em>No rows.</em></p>"
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = []
        for value in record:
            if isinstance(value, float):
                cells.append(f'<td class="num">{value:.3g}</td>')
            else:
                cells.append(f"<td>{html.escape(str(value))}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def synthetic_banner(text: str) -> list[str]:
    """The page's framed warning that its numbers are synthetic (HTML)."""
    return [f'<p class="synthetic" id="synthetic-data">{text}</p>']


def _synthetic_banner(source: DataSource) -> list[str]:
    if not source.synthetic:
        return []
    return synthetic_banner(
        f"{html.escape(SYNTHETIC_BANNER)}. These "
        "figures come from the project's generated default release, not from CEPII BACI: the "
        "countries and HS products are real, the trade flows are invented. Run the pipeline on "
        "a real BACI release for real results."
    )


def report_html(
    params: ReportParams,
    figures: Sequence[ReportFigure],
    tables: Sequence[tuple[str, pd.DataFrame]],
    meta: dict[str, str],
) -> str:
    """The page; ``meta`` (warehouse, run id, config ...) is listed under the title."""
    country = params.country
    title = f"Country report: {country.label} ({country.iso3}), {params.year_from}-{params.year_to}"
    compared = ", ".join(f"{c.label} ({c.iso3})" for c in params.compare) or "none"
    intro = (
        "The analyses of IPPR's <em>Gathering strength</em> (2014), chapter 3, computed from "
        f"{html.escape(params.source.description())}. RCA is Balassa's index; a country exports "
        "a product competitively when its RCA is at least 1."
    )
    meta = {"Compared with": compared, **meta}
    banner = _synthetic_banner(params.source)
    return page_html(title, meta, intro, params.notes, figures, tables, banner)


def page_html(
    title: str,
    meta: dict[str, str],
    intro: str,
    notes: Sequence[str],
    figures: Sequence[ReportFigure],
    tables: Sequence[tuple[str, pd.DataFrame]],
    banner: Sequence[str] = (),
) -> str:
    """A report page (country or regional): title, ``meta`` lines, ``banner`` (HTML
    paragraphs: the synthetic-data warning), ``intro`` (HTML), notes, the figures (drawn, or
    the reason they are not) and the tables."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        '<p class="meta">'
        + "<br>".join(f"{html.escape(k)}: {html.escape(v)}" for k, v in meta.items())
        + "</p>",
        *banner,
        f"<p>{intro}</p>",
    ]
    parts += [f'<p class="note">{html.escape(note)}</p>' for note in notes]
    for item in figures:
        parts.append(f'<figure id="{item.name}"><h2>{html.escape(item.title)}</h2>')
        if item.figure is None:
            parts.append('<p class="skipped">Not drawn: no data for this figure.</p>')
        else:
            data = base64.b64encode(item.png).decode("ascii")
            parts.append(
                f'<img alt="{html.escape(item.title)}" src="data:image/png;base64,{data}">'
            )
        parts.append(f"<figcaption>{html.escape(item.caption)}</figcaption></figure>")
    parts.append("<h2>Tables</h2>")
    for caption, frame in tables:
        parts.append(f"<h3>{html.escape(caption)}</h3>{_table_html(frame)}")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: Path, page: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path
