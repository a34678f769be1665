"""The typed config: defaults, presets, overrides, and errors that name the key before Spark starts."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from lib.run.config import ConfigError, load_config, parse_years
from tests.conftest import PROJECT_ROOT


def test_defaults_and_documented_keys():
    config = load_config()
    assert config.products.level == "hs4"
    assert config.products.exclude_erratic is True
    assert config.rca.threshold == 1.0
    assert config.fitness.max_iterations == 200
    assert config.eci.normalization == "atlas"


def test_overrides_are_typed():
    config = load_config(
        overrides=[
            "products.level=hs6",
            "products.exclude_erratic=false",
            "rca.threshold=1",
            "fitness.max_iterations=19",
            "fitness.tolerance=0",
            "eci.normalization=zscore",
        ]
    )
    assert config.products.level == "hs6" and config.products.exclude_erratic is False
    assert config.rca.threshold == 1.0 and isinstance(config.rca.threshold, float)
    assert config.fitness.max_iterations == 19 and config.fitness.tolerance == 0.0
    assert config.eci.normalization == "zscore"


def test_atlas_preset_layers_on_defaults():
    config = load_config(PROJECT_ROOT / "conf" / "atlas.toml")
    assert config.rca.strict is True
    assert config.countries.min_export_value == 1_000_000.0
    assert config.fitness.max_iterations == 200  # untouched keys keep their defaults
    assert config.eci.two_step and config.countries.min_population == 1_000_000.0
    assert config.products.min_world_export == 10_000.0


def test_oec_preset():
    config = load_config(PROJECT_ROOT / "conf" / "oec.toml")
    assert config.products.level == "hs4" and config.products.min_world_export == 500_000.0
    assert config.countries.min_export_value == 1_000_000.0
    assert config.countries.min_population == 1_000_000.0
    assert not config.rca.strict and not config.eci.two_step


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        ("rca.thresold=1", "rca.thresold", "unknown key"),
        ("fitnes.max_iterations=3", "fitnes", "unknown section"),
        ("fitness.max_iterations=many", "fitness.max_iterations", "whole number"),
        ("products.exclude_erratic=yes", "products.exclude_erratic", "true or false"),
        ("rca.threshold=-1", "rca.threshold", "must be positive"),
        ("products.level=hs5", "products.level", "one of hs2, hs4, hs6"),
        ("fitness.tolerance=-1e-9", "fitness.tolerance", "negative"),
        ("input.years=2010-1995", "input.years", "backwards"),
        ("rca.threshold", "rca.threshold", "key=value"),
        ("fitness.method=hidalgo", "fitness.method", "one of tacchella, nhefc, genepy"),
        ("fitness.nhefc_delta=0", "fitness.nhefc_delta", "must be positive"),
        ("rca.presence_test=pop", "rca.presence_test", "one of rca, rpop, both"),
        ("countries.min_population=-1", "countries.min_population", "negative"),
    ],
)
def test_errors_name_the_key(override, key, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_config(overrides=[override])
    assert info.value.key == key
    assert f"'{key}'" in str(info.value)


def test_years():
    assert parse_years("1995-1997") == [1995, 1996, 1997]
    assert parse_years("2005,2001") == [2001, 2005]
    assert parse_years("") is None


def test_job_rejects_bad_config_before_spark_starts(tmp_path):
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "jobs/fitness.py",
            "--set",
            "rca.threshold=-1",
            "--warehouse",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.perf_counter() - start
    assert result.returncode == 2
    assert "config key 'rca.threshold': must be positive" in result.stderr
    assert "SparkContext" not in result.stderr and elapsed < 30  # no JVM was started
    assert not any(tmp_path.iterdir())  # nothing written


def test_default_file_matches_the_dataclass_defaults():
    """conf/default.toml documents the defaults; the code must agree (it is the fallback on a
    cluster driver that has only the zipped code)."""
    from lib.run.config.loading import DEFAULT_CONFIG, Config, _read_toml, from_dict

    assert from_dict(_read_toml(DEFAULT_CONFIG)) == Config()


def test_density_pairs_validated():
    from lib.run.config import ConfigError, ProductSpaceConfig

    ProductSpaceConfig(density_pairs="top_k", density_top_k=5).validate()
    with pytest.raises(ConfigError, match="density_pairs"):
        ProductSpaceConfig(density_pairs="some").validate()
    with pytest.raises(ConfigError, match="density_top_k"):
        ProductSpaceConfig(density_top_k=0).validate()
