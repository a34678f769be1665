"""The yearly indicator tables of a run: per country, per product, per country x product, product pairs, and Fitness convergence.

Declarations only (name, comment, columns, constraints); ``lib.tables`` assembles them into
``TABLES``. No code here reads or writes a table.
"""

from __future__ import annotations

from lib.tables.columns import COUNTRY, PRODUCT, YEAR, YEAR_RANGE, Table, _c

TABLES = [
    Table(
        "country_year",
        "Yearly indicators per country (every country that traded in the year)",
        (
            YEAR,
            COUNTRY,
            _c("iso3", "string", "ISO3 code"),
            _c("country_name", "string", "Country name"),
            _c(
                "export_value",
                "double",
                "Exports of the products kept (erratic items excluded), thousands USD",
                False,
            ),
            _c(
                "diversification",
                "int",
                "Number of products with M = 1 (null if the country was dropped by thresholds)",
            ),
            _c(
                "fitness",
                "double",
                "Economic Fitness (Tacchella et al. 2012), mean 1 over active countries",
            ),
            _c("log10_fitness", "double", "log10 of fitness"),
            _c("fitness_rank", "int", "Rank by fitness, 1 = fittest"),
            _c(
                "eci",
                "double",
                "Economic Complexity Index (eigenvector method; eci.normalization)",
            ),
            _c("eci_rank", "int", "Rank by ECI, 1 = most complex"),
            _c("coi", "double", "Complexity outlook index (Atlas)"),
            _c("mean_product_complexity", "double", "Mean PCI of the products with M = 1"),
            _c(
                "in_core",
                "boolean",
                "Passes the size rules (countries.min_export_value, countries.min_population):"
                " in the matrix every indicator is computed on. With eci.two_step, countries"
                " outside the core still get eci from the core's PCI",
                False,
            ),
            _c("population", "double", "Population (input.country_attributes; null if none)"),
            _c(
                "gdp_per_capita",
                "double",
                "GDP per capita, as given in input.country_attributes (null if none);"
                " SYNTHETIC with the embedded default release (its own series)",
            ),
            _c(
                "expy",
                "double",
                "EXPY (Hausmann, Hwang, Rodrik 2007): income level of the export basket,"
                " sum_p (X_cp/X_c) PRODY_p (needs GDP per capita)",
            ),
        ),
        {
            "year_range": YEAR_RANGE,
            "export_value_non_negative": "export_value >= 0",
            "fitness_non_negative": "fitness IS NULL OR fitness >= 0",
        },
    ),
    Table(
        "product_year",
        "Yearly indicators per product (every product exported in the year)",
        (
            YEAR,
            PRODUCT,
            _c(
                "description",
                "string",
                "Product description (HS4: text shared by its HS6 descriptions)",
            ),
            _c(
                "world_export_value",
                "double",
                "World exports of the product, thousands USD",
                False,
            ),
            _c(
                "ubiquity",
                "int",
                "Number of countries with M = 1 (null if dropped by thresholds)",
            ),
            _c(
                "complexity",
                "double",
                "Product Complexity Q of the Fitness-Complexity algorithm, mean 1",
            ),
            _c("log10_complexity", "double", "log10 of complexity"),
            _c("complexity_rank", "int", "Rank by complexity, 1 = most complex"),
            _c(
                "pci",
                "double",
                "Product Complexity Index (eigenvector method; eci.normalization)",
            ),
            _c(
                "in_core",
                "boolean",
                "Passes the world-trade floor (products.min_world_export): in the matrix every"
                " indicator is computed on",
                False,
            ),
            _c(
                "prody",
                "double",
                "PRODY (Hausmann, Hwang, Rodrik 2007): exporters' GDP per capita weighted by"
                " (X_cp/X_c) / sum_c (X_cp/X_c) (needs GDP per capita)",
            ),
        ),
        {"year_range": YEAR_RANGE, "world_export_value_positive": "world_export_value > 0"},
    ),
    Table(
        "country_product_year",
        "Per country, product and year: exports, RCA, M and the product-space measures",
        (
            YEAR,
            COUNTRY,
            PRODUCT,
            _c("export_value", "double", "Exports X_cp, thousands USD (0 where none)", False),
            _c("rca", "double", "Balassa RCA = (X_cp/X_c)/(X_p/X) (0 where no exports)", False),
            _c(
                "rca_difference",
                "double",
                "Additive RCA = X_cp/X_c - X_p/X (IPPR 2014, footnote 11)",
            ),
            _c(
                "mcp",
                "int",
                "Presence M_cp: 1 if RCA >= rca.threshold (> if rca.strict), or by"
                " rca.presence_test (rpop, both)",
                False,
            ),
            _c(
                "rpop",
                "double",
                "RPOP = (X_cp/pop_c) / (X_p/pop): exports per person relative to the world's"
                " (needs population; null without)",
            ),
            _c(
                "density",
                "double",
                "Density: share of the proximity of p to the products c has",
            ),
            _c("cog", "double", "Complexity outlook gain of c moving into p (Atlas)"),
        ),
        {
            "year_range": YEAR_RANGE,
            "rca_non_negative": "rca >= 0",
            "mcp_binary": "mcp IN (0, 1)",
            "export_value_non_negative": "export_value >= 0",
        },
        ("year",),
    ),
    Table(
        "product_proximity",
        "Product proximity phi = min(P(a|b), P(b|a)), non-zero pairs, both orders, no diagonal",
        (
            YEAR,
            _c("product_a", "string", "HS code of the first product", False),
            _c("product_b", "string", "HS code of the second product", False),
            _c("proximity", "double", "Proximity in (0, 1]", False),
        ),
        {
            "year_range": YEAR_RANGE,
            "proximity_range": "proximity > 0 AND proximity <= 1",
            "no_diagonal": "product_a <> product_b",
        },
        ("year",),
    ),
    Table(
        "product_bicm_links",
        "BiCM-validated product links (with product_space.projection = bicm): pairs whose"
        " co-occurrence is significant against the Bipartite Configuration Model of M, both"
        " orders, no diagonal (lib.measures.bicm)",
        (
            YEAR,
            _c("product_a", "string", "HS code of the first product", False),
            _c("product_b", "string", "HS code of the second product", False),
            _c(
                "cooccurrence",
                "int",
                "Countries with M = 1 in both products, V_ab = sum_c M_ca M_cb",
                False,
            ),
            _c(
                "expected",
                "double",
                "Its expectation under the BiCM, sum_c p_ca p_cb (p = x y / (1 + x y))",
                False,
            ),
            _c(
                "p_value",
                "double",
                "P(V >= V_ab) under the BiCM (Poisson approximation, as the bicm package);"
                " validated at product_space.bicm_alpha by product_space.bicm_validation",
                False,
            ),
        ),
        {
            "year_range": YEAR_RANGE,
            "p_value_range": "p_value >= 0 AND p_value <= 1",
            "cooccurrence_positive": "cooccurrence >= 1",
            "no_diagonal": "product_a <> product_b",
        },
        ("year",),
    ),
    Table(
        "fitness_convergence",
        "How the Fitness-Complexity iteration stopped, per year",
        (
            YEAR,
            _c("iterations", "int", "Updates made from F = Q = 1", False),
            _c("final_change", "double", "max |change| of F and Q at the last update"),
            _c(
                "method",
                "string",
                "fitness.method: tacchella, nhefc or genepy (genepy: closed form, 0 iterations)",
            ),
        ),
        {"year_range": YEAR_RANGE},
    ),
]
