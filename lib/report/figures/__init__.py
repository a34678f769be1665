"""The report's figures: pandas frames in, matplotlib ``Figure`` out (no pyplot state).

Each function draws one figure of "Gathering strength" (IPPR 2014) from the rows of one report
table and returns ``None`` when there is nothing to draw, so callers skip it and say why. WHY
``Figure`` objects instead of ``pyplot``: no global state, no GUI backend, the same code in the
job, the tests and the notebook.
"""

from lib.report.figures.fitness import (  # noqa: F401
    diversification_trend,
    fitness_level,
    fitness_rank,
    nested_matrix_plot,
    nestedness_trend,
)
from lib.report.figures.products import (  # noqa: F401
    fitness_gdp_plane,
    products_gained_lost,
    spectrograph_plot,
)
from lib.report.figures.sectors import (  # noqa: F401
    export_split,
    goods_services_trend,
    sector_rca_bars,
    sector_rca_change,
    sector_rca_comparison,
    sector_rca_trends,
    sectors_with_advantage,
)
from lib.report.figures.style import (  # noqa: F401
    GOODS_COLOUR,
    MAIN_COLOUR,
    PALETTE,
    SERVICES_COLOUR,
    UNMAPPED,
    add_footer,
    country_colours,
    figure_png,
)
