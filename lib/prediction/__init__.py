"""Where to go next, with evidence: opportunity scores for the activities a place does not yet
have, their backtests against what happened h years later, and growth forecasts (issue 22).

``settings`` holds the options, ``candidates`` the pairs scored and their outcomes, ``metrics``
the numpy kernels of the backtest metrics, ``backtest`` their Spark grouping, ``opportunities``
the composition into the output tables, ``classifiers`` the machine-learning methods and
``growth`` the Selective Predictability Scheme. Nothing here reads or writes a table
(``lib.run.prediction`` does).
"""
