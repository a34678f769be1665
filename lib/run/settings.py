"""The config resolved once into the typed settings of each stage.

The workflow (``lib.run.workflow``) and the place x activity stages (``lib.run.place_activity``)
call these at the top of a run; a stage then receives only its own settings, never the whole
``Config``: the measures get a ``YearSettings``, the indicator stage an ``IndicatorSettings``,
the exports a ``ProductSelection``. Nothing below ``lib.run`` reads the config.
"""

from __future__ import annotations

from lib.execution.exports import ProductSelection
from lib.execution.indicators import IndicatorSettings
from lib.io.country_attributes import CountryAttributes
from lib.measures.smoothing import window_weights
from lib.measures.yearly import YearSettings
from lib.prediction.settings import GrowthSettings, PredictionSettings
from lib.run.config import Config


def smoothing_weights(config: Config) -> tuple[float, ...]:
    """The window's weights, () without smoothing (rca.smoothing_years = 1)."""
    rca = config.rca
    return (
        window_weights(rca.smoothing_years, rca.smoothing_weights)
        if rca.smoothing_years > 1
        else ()
    )


def year_settings(config: Config, attributes: CountryAttributes | None = None) -> YearSettings:
    """The methodology options of the yearly core (thresholds, RCA, Fitness, ECI, product space)."""
    return YearSettings(
        min_country_export=config.countries.min_export_value,
        min_product_export=config.products.min_world_export,
        min_population=config.countries.min_population,
        rca_threshold=config.rca.threshold,
        rca_strict=config.rca.strict,
        presence_test=config.rca.presence_test,
        rpop_threshold=config.rca.rpop_threshold,
        smoothing_weights=smoothing_weights(config),
        max_iterations=config.fitness.max_iterations,
        tolerance=config.fitness.tolerance,
        two_step=config.eci.two_step,
        fitness_method=config.fitness.method,
        nhefc_delta=config.fitness.nhefc_delta,
        normalization=config.eci.normalization,
        product_space=config.product_space.enabled,
        proximity_diagonal=config.product_space.proximity_diagonal,
        min_proximity=config.product_space.min_proximity,
        density_pairs=config.product_space.density_pairs,
        density_top_k=config.product_space.density_top_k,
        projection=config.product_space.projection,
        bicm_alpha=config.product_space.bicm_alpha,
        bicm_validation=config.product_space.bicm_validation,
        attributes=attributes,
    )


def product_selection(config: Config) -> ProductSelection:
    """Which flows become exports: the product level, erratic chapters, unspecified codes."""
    products = config.products
    return ProductSelection(
        level=products.level,
        erratic_chapters=tuple(products.erratic_chapters) if products.exclude_erratic else (),
        exclude_unspecified=products.exclude_unspecified,
    )


def indicator_settings(config: Config) -> IndicatorSettings:
    """Everything the indicator stage of a BACI run needs."""
    return IndicatorSettings(
        warehouse=config.output.warehouse,
        writer=config.output.writer,
        products=product_selection(config),
        smoothing_years=config.rca.smoothing_years,
        country_attributes=config.input.country_attributes or None,
        year=year_settings(config),
        matrix=config.execution.matrix,
        partitions=config.spark.shuffle_partitions,
    )


def prediction_settings(config: Config) -> PredictionSettings:
    """The opportunity scores' options (methods, horizon, candidates, k, classifiers)."""
    p = config.prediction
    return PredictionSettings(
        methods=tuple(p.methods),
        horizon=p.horizon,
        entry_below=p.entry_below,
        k=p.k,
        seed=p.seed,
        trees=p.trees,
        ml_tasks=p.ml_tasks,
        bicm_alpha=config.product_space.bicm_alpha,
        bicm_validation=config.product_space.bicm_validation,
    )


def growth_settings(config: Config) -> GrowthSettings:
    """The growth forecasts' options (SPS: horizon, kernel width, bootstrap)."""
    p = config.prediction
    return GrowthSettings(
        horizon=p.horizon, sigma=p.sps_sigma, bootstrap=p.sps_bootstrap, seed=p.sps_seed
    )
