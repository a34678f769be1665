"""The prediction tables: opportunity scores, their backtests, growth forecasts (issue 22,
docs/prediction.md).

Declarations only (name, comment, columns, constraints); ``lib.tables`` assembles them into
``TABLES``. No code here reads or writes a table.
"""

from __future__ import annotations

from lib.tables.columns import COUNTRY, PRODUCT, YEAR, YEAR_RANGE, Table, _c

METHOD = _c(
    "method",
    "string",
    "prediction.methods: density (the product-space density at t), random_forest or"
    " gradient_boosting (one scikit-learn classifier per product)",
    False,
)
TRAIN_YEAR = _c("train_year", "int", "Year t of the scores (no data after t used)", False)
TARGET_YEAR = _c("target_year", "int", "Year t + horizon the scores are checked against", False)
HORIZON = _c("horizon", "int", "prediction.horizon h, years", False)
CANDIDATES = _c(
    "candidates",
    "int",
    "Pairs scored: both active at t, RCA at t below prediction.entry_below",
    False,
)
POSITIVES = _c("positives", "int", "Candidates with M = 1 at t + horizon", False)
K = _c("k", "int", "Cut-off of precision@k (at most the candidates)", False)

TABLES = [
    Table(
        "product_opportunities",
        "Opportunity scores: per year, country and method, the products the country does not"
        " yet have (RCA below prediction.entry_below), scored and ranked",
        (
            YEAR,
            COUNTRY,
            PRODUCT,
            METHOD,
            _c("score", "double", "Higher = more likely to have M = 1 at t + horizon", False),
            _c("rank", "int", "Rank of the score within the country and method, 1 = best", False),
        ),
        {"year_range": YEAR_RANGE, "rank_positive": "rank >= 1"},
        ("year",),
    ),
    Table(
        "prediction_backtest",
        "How well each method's scores of year t predicted the products present at t + horizon",
        (
            METHOD,
            TRAIN_YEAR,
            TARGET_YEAR,
            HORIZON,
            CANDIDATES,
            POSITIVES,
            _c("roc_auc", "double", "Area under the ROC curve (null without positives)"),
            _c("pr_auc", "double", "Average precision (area under the precision-recall curve)"),
            _c("best_f1", "double", "Largest F1 over the score thresholds"),
            _c(
                "precision_at_k",
                "double",
                "Share of positives among the k best-scored candidates of the year",
            ),
            _c(
                "k",
                "int",
                "Cut-off: prediction.k x the countries with candidates (at most the candidates)",
                False,
            ),
            _c(
                "map_at_k",
                "double",
                "fermi-cref's MAP@k: mean of the average precision of positives and of"
                " negatives among the top k",
            ),
        ),
        {
            "train_year_range": "train_year BETWEEN 1962 AND 2100",
            "horizon_positive": "horizon >= 1",
        },
    ),
    Table(
        "prediction_backtest_place",
        "Per country: precision@k of its own list of k best-scored products of year t",
        (
            METHOD,
            TRAIN_YEAR,
            TARGET_YEAR,
            HORIZON,
            COUNTRY,
            CANDIDATES,
            POSITIVES,
            _c("hits", "int", "Products of the country's top k with M = 1 at t + horizon", False),
            _c("precision_at_k", "double", "hits / k", False),
            K,
        ),
        {"train_year_range": "train_year BETWEEN 1962 AND 2100", "hits_within_k": "hits <= k"},
    ),
]

GROWTH_TABLES = [
    Table(
        "growth_forecast",
        "SPS forecasts of GDP per capita growth over the horizon (Tacchella, Mazzilli, Pietronero"
        " 2018), with the velocity baseline; needs input.country_attributes",
        (
            _c("year", "int", "Base year t of the forecast (no data after t used)", False),
            COUNTRY,
            HORIZON,
            TARGET_YEAR,
            _c("log_fitness", "double", "ln fitness at t", False),
            _c("log_gdp_per_capita", "double", "ln GDP per capita at t", False),
            _c(
                "analogues",
                "int",
                "Other countries' states at s <= t - h with a state at s + h",
                False,
            ),
            _c(
                "sps_growth",
                "double",
                "Nadaraya-Watson forecast of ln(GDP pc at t + h / GDP pc at t)",
            ),
            _c("sps_growth_sd", "double", "Kernel-weighted sd of the analogues' growth"),
            _c("sps_growth_low", "double", "Bootstrap interval of sps_growth, lower end (90 %)"),
            _c("sps_growth_high", "double", "Bootstrap interval of sps_growth, upper end (90 %)"),
            _c("sps_fitness_change", "double", "Nadaraya-Watson forecast of the ln fitness change"),
            _c(
                "velocity_growth",
                "double",
                "Velocity baseline: the past h years' growth, ln(GDP pc at t / GDP pc at t - h)",
            ),
        ),
        {"year_range": YEAR_RANGE},
    ),
    Table(
        "growth_backtest",
        "Errors of the growth forecasts of year t against the growth observed at t + horizon:"
        " sps, velocity and no_change, on the same countries",
        (
            _c("method", "string", "sps, velocity or no_change (growth 0)", False),
            TRAIN_YEAR,
            TARGET_YEAR,
            HORIZON,
            _c("countries", "int", "Countries with every forecast and the outcome", False),
            _c("mean_absolute_error", "double", "Mean |forecast - observed| of ln growth", False),
            _c("rmse", "double", "Root mean squared error of ln growth", False),
            _c("mean_error", "double", "Mean forecast - observed (bias)", False),
        ),
        {"train_year_range": "train_year BETWEEN 1962 AND 2100"},
    ),
]
TABLES += GROWTH_TABLES
