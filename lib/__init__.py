"""Economic complexity at world scale: from raw CEPII BACI flows to Delta Lake tables.

Where things are computed (one concept per module):

- ``lib.io.baci``         reading a BACI release (folder or zip) with explicit schemas
- ``lib.io.delta``        writing and reading the Delta tables, run log
- ``lib.datasets.synthetic``       the synthetic BACI generator (embedded default data)
- ``lib.execution.exports``         flows -> exports by country and product (product level, erratic items)
- ``lib.measures.rca``             revealed comparative advantage (Balassa), presence M, diversity, ubiquity
- ``lib.measures.fitness``         Fitness and Complexity (Tacchella et al. 2012)
- ``lib.measures.eci``             ECI and PCI (Hausmann-Hidalgo, eigenvector method)
- ``lib.measures.product_space``   proximity, density, complexity outlook (COI) and outlook gain (COG)
- ``lib.execution.indicators``        composes the stages into the output tables
"""

__version__ = "0.1.0"
