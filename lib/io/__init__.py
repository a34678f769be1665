"""Every read and write of the project: BACI releases (``baci``), the Delta tables (``delta``,
``delta_arrow``, ``catalog``, ``maintenance``), the place x activity and country attributes
inputs, and the readers BI tools use (``bi``). Nothing here computes an indicator or reads the
config: callers pass paths and the settings a read or a write needs."""
