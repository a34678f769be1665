"""How the work is placed on Spark: the ingest's files and the indicators' years as tasks.

``ingest`` turns a BACI release into ``baci_flows`` (one task a file), ``exports`` turns flows
into exports (DataFrame -> DataFrame), ``indicators`` runs the yearly core of
``lib.measures.yearly`` in one task a year and hands the rows to the writers. Nothing here
reads the config: each stage receives its settings (``lib.run.settings``).
"""
