"""The country report: the analyses of IPPR's "Gathering strength" (2014) for any country.

Modules, one concept each (the tables it writes are declared in ``lib.tables.report``): ``countries`` (ISO3 ->
BACI code), ``services`` (the optional services trade file), ``analyses`` (Spark
DataFrame -> DataFrame), ``nestedness`` (NODF), ``frames`` (reading the tables into pandas, with
Spark or without), ``figures`` (matplotlib, pandas in), ``render`` (the figure set) and ``html``
(the self-contained page); ``build`` computes and writes the tables and ``runner`` runs the
job's steps after the inputs were checked.

The report reads the indicator tables and must not compute an indicator of its own.
"""
