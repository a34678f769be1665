"""One typed configuration for every methodology option.

Defaults live in ``conf/default.toml``; a preset (``conf/atlas.toml``) and ``--set key=value``
overrides are layered on top. Errors are raised before Spark starts, naming the offending key.
Every run records ``config.to_dict()`` in the run log.

Must not know about Spark or tables.
"""

from lib.run.config.loading import (  # noqa: F401
    CONF_DIR,
    DEFAULT_CONFIG,
    Config,
    from_dict,
    load_config,
    parse_overrides,
)
from lib.run.config.sections import (  # noqa: F401
    MATRIX_MODES,
    MIN_DELETED_FILE_RETENTION_DAYS,
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
    parse_years,
)
