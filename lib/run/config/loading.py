"""The whole Config and how it is loaded: conf/default.toml, then a preset, then --set overrides,
coerced to the dataclasses' types with errors naming the key. Must not validate a section itself
(each section does).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lib.run.config.sections import (
    ConfigError,
    CountriesConfig,
    EciConfig,
    ExecutionConfig,
    FitnessConfig,
    InputConfig,
    OutputConfig,
    PredictionConfig,
    ProductsConfig,
    ProductSpaceConfig,
    RcaConfig,
    ReportConfig,
    SparkConfig,
)

# conf/ of the project; when lib/ runs from the zip shipped to a cluster, ECX_CONF_DIR (set by
# spark-submit.sh) points at it, and without the file the dataclass defaults below apply: a test
# keeps conf/default.toml identical to them.
CONF_DIR = Path(os.environ.get("ECX_CONF_DIR", Path(__file__).resolve().parents[3] / "conf"))
DEFAULT_CONFIG = CONF_DIR / "default.toml"


@dataclass(frozen=True)
class Config:
    input: InputConfig = field(default_factory=InputConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    products: ProductsConfig = field(default_factory=ProductsConfig)
    countries: CountriesConfig = field(default_factory=CountriesConfig)
    rca: RcaConfig = field(default_factory=RcaConfig)
    fitness: FitnessConfig = field(default_factory=FitnessConfig)
    eci: EciConfig = field(default_factory=EciConfig)
    product_space: ProductSpaceConfig = field(default_factory=ProductSpaceConfig)
    prediction: PredictionConfig = field(default_factory=PredictionConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    spark: SparkConfig = field(default_factory=SparkConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, default=list)

    def with_overrides(self, overrides: dict[str, Any]) -> Config:
        return from_dict(_deep_merge(self.to_dict(), _nest(overrides)))


# --- loading ------------------------------------------------------------------------------


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
) -> Config:
    """Defaults, then the preset file ``path`` (only the keys it sets), then ``--set`` overrides."""
    data = _read_toml(DEFAULT_CONFIG) if DEFAULT_CONFIG.exists() else {}
    if path:
        data = _deep_merge(data, _read_toml(Path(path)))
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides)
    if overrides:
        data = _deep_merge(data, _nest(overrides))
    return from_dict(data)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["fitness.max_iterations=19", "products.level=hs6"]`` -> typed values (TOML literals)."""
    result: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(item, "an override must look like key=value, e.g. rca.threshold=1.0")
        key, raw = (part.strip() for part in item.split("=", 1))
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # bare words such as hs6 or atlas are strings
        result[key] = value
    return result


def from_dict(data: dict[str, Any]) -> Config:
    sections = {f.name: f.type for f in dataclasses.fields(Config)}
    hints = typing.get_type_hints(Config)
    kwargs = {}
    for name, values in data.items():
        if name not in sections:
            raise ConfigError(name, f"unknown section; known sections: {', '.join(sections)}")
        if not isinstance(values, dict):
            raise ConfigError(name, "must be a table of options")
        kwargs[name] = _build_section(name, hints[name], values)
    config = Config(**kwargs)
    for name in sections:
        section = getattr(config, name)
        if hasattr(section, "validate"):
            section.validate()
    return config


def _build_section(section: str, cls: type, values: dict[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        dotted = f"{section}.{key}"
        if key not in hints:
            raise ConfigError(dotted, f"unknown key; known keys in [{section}]: {', '.join(hints)}")
        kwargs[key] = _coerce(dotted, hints[key], value)
    return cls(**kwargs)


def _coerce(key: str, expected: Any, value: Any) -> Any:
    origin = typing.get_origin(expected)
    if origin is Literal:
        choices = typing.get_args(expected)
        if value not in choices:
            raise ConfigError(key, f"must be one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(key, f"must be a list, got {type(value).__name__}")
        return tuple(_coerce(key, typing.get_args(expected)[0], v) for v in value)
    if origin in (typing.Union, types.UnionType):
        raise NotImplementedError(key)
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"must be true or false, got {value!r}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"must be a whole number, got {value!r}")
        return value
    if expected is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"must be a number, got {value!r}")
        return float(value)
    if expected is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"must be a string, got {value!r}")
        return value
    raise ConfigError(key, f"unsupported type {expected}")


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(str(path), "config file not found")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                key, "overrides are written section.key=value, e.g. rca.threshold=1.0"
            )
        nested.setdefault(parts[0], {})[parts[1]] = value
    return nested


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


# --- helpers shared by jobs ---------------------------------------------------------------
