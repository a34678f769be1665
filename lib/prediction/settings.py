"""The options of the prediction stage, as plain picklable records (resolved from the config by
``lib.run.settings``). No Spark, no config parsing here."""

from __future__ import annotations

from dataclasses import dataclass

DENSITY = "density"
BICM_DENSITY = "bicm_density"
RANDOM_FOREST = "random_forest"
GRADIENT_BOOSTING = "gradient_boosting"
ML_METHODS = (RANDOM_FOREST, GRADIENT_BOOSTING)
METHODS = (DENSITY, BICM_DENSITY, *ML_METHODS)


@dataclass(frozen=True)
class PredictionSettings:
    """``methods`` scored; a candidate is a pair active at t with RCA < ``entry_below``; its
    outcome is M at t + ``horizon``; ``k``: the length of a place's list (precision@k)."""

    methods: tuple[str, ...] = (DENSITY,)
    horizon: int = 5
    entry_below: float = 0.25
    k: int = 10
    seed: int = 0  # random_state of the classifiers
    trees: int = 100  # n_estimators of the classifiers
    ml_tasks: int = 16  # activity groups fitted in parallel (Spark tasks)
    # bicm_density: the BiCM-validated links' significance and correction (product_space.bicm_*)
    bicm_alpha: float = 0.05
    bicm_validation: str = "fdr"


@dataclass(frozen=True)
class GrowthSettings:
    """The Selective Predictability Scheme (Tacchella, Mazzilli, Pietronero 2018): analogues
    in the (ln fitness, ln GDP per capita) plane weighted by a Gaussian kernel of width
    ``sigma``; ``bootstrap`` resamples for the interval, drawn with ``seed``."""

    horizon: int = 5
    sigma: float = 0.5
    bootstrap: int = 100
    seed: int = 42
    interval: float = 0.9  # central probability of the bootstrap interval
