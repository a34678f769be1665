"""The measures of economic complexity as numpy kernels, one module per measure.

Pure functions of a year's dense matrices (exports X, presence M) and plain settings: no Spark,
no I/O, no config. ``yearly.year_indicators`` computes every measure of one year from its
exports; the Spark side (``lib.execution``) decides where that runs.
"""
