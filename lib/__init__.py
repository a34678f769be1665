"""Economic complexity at world scale: from raw CEPII BACI flows (or any place x activity
table) to Delta Lake tables of yearly indicators.

A package per concept (the README's "Where things are" has the tour):

- ``lib.measures``         the numpy kernels, one module per measure (RCA in ``lib.measures.rca``)
- ``lib.execution``        how work is placed on Spark tasks (ingest, exports, yearly indicators)
- ``lib.io``               every read and write (BACI files, Delta tables, place x activity input)
- ``lib.tables``           the data dictionary
- ``lib.run``              config, settings per stage, session, the workflow of a job, run log
- ``lib.datasets``         the embedded synthetic data and whether data are real or synthetic
- ``lib.classifications``  HS chapters, sector mappings, product labels
- ``lib.report``           the country and regional reports

Nothing is imported here: each package is imported where it is used.
"""

__version__ = "0.1.0"
