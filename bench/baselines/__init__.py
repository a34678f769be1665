"""Single-machine baselines, each a small script run in its own process by bench/run_benchmark.py:

- ``pyarrow_convert``   BACI CSV -> clean -> Parquet with plain pyarrow (the ingest's yardstick)
- ``pandas_pipeline``   the indicators with plain pandas / numpy from that Parquet
- ``numpy_fitness``     a plain numpy Fitness loop (and ECI) over the yearly matrices
- ``py_ecomplexity``    the py-ecomplexity package (ECI, PCI, density, COI, COG)

Each prints one JSON object (its timings) on its last line of output.
"""
