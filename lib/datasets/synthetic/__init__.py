"""Synthetic CEPII BACI releases: the project's embedded default dataset and its benchmark data.

The real BACI cannot be redistributed with the code, yet the pipeline, its tests and its
benchmarks need data with BACI's exact layout and with the statistical shape that economic
complexity depends on (a nested, skewed country-product matrix). This module generates such a
release, deterministically from a seed, at three built-in sizes (or any :class:`SizeSpec`).
(``tall.py``, imported on its own, writes a tall SYNTHETIC place x activity table instead: many
places x ~1,000 activities, for scale tests.)

Sizes:

==========  ===========  =========  ==========  ======================  ===================
size        years        countries  products    flows per year          use
==========  ===========  =========  ==========  ======================  ===================
``tiny``    2018-2020    30         300         ~4 thousand             unit tests (< 2 s)
``small``   2010-2020    150        5,022       ~200 thousand           default release
``full``    1995-2024    227        5,022       ~9 million (~400 MB)    scale benchmarks
==========  ===========  =========  ==========  ======================  ===================

The data are synthetic and say so: the release id ``SYNTH2401`` is no CEPII release's (theirs
are ``V`` + year + month), a ``SYNTHETIC.md`` note lies beside the files, and the pipeline
labels every output of such a release synthetic (``lib/datasets/provenance.py``).

Layout (as CEPII's ``BACI_HS92_V202401``, with our release id)
--------------------------------------------------------------
- ``BACI_HS92_Y{year}_SYNTH2401.csv``: header ``t,i,j,k,v,q``; ``k`` is a 6-character code with
  leading zeros; ``v`` thousands of current USD with exactly three decimals (at least 0.001);
  ``q`` metric tons with three decimals, right-aligned with spaces to width 13 (``Q_WIDTH``), or
  ``NA`` right-aligned the same way (~3 % of rows). Rows are sorted by ``i, j, k``; ``i != j``;
  no ``(t, i, j, k)`` appears twice. Width 13 is what the real rows in
  ``../shared/data/real/baci_hs17_y2020_sample`` show (e.g. ``"        0.001"``); longer numbers
  are not cut, as in BACI.
- ``country_codes_SYNTH2401.csv`` (``country_code,country_name,country_iso2,country_iso3``)
  lists our whole country table (as BACI's lists more countries than any one year has);
  ``product_codes_HS92_SYNTH2401.csv`` (``code,description``) lists the release's products.
- Not part of BACI, for tests: ``latent_truth.csv`` (``year,country_code,capability``),
  ``latent_products.csv`` (``product,requirement``) and ``SYNTHETIC.md`` (seed, size, version);
  for the pipeline: ``synthetic_country_attributes.csv`` (``country,year,population,
  gdp_per_capita``), a SYNTHETIC GDP per capita series (``attributes.py``) that the default job
  uses as ``input.country_attributes``.

Countries and products: real, from our tables (sources in ``lib/data/SOURCES.md``)
-----------------------------------------------------------------------------------
- Products are the real HS92 subheadings with their official descriptions
  (``lib/data/hs92_products.csv``: CEPII BACI V202401's list, Etalab 2.0), including BACI's
  "not specified according to kind" codes 999999 and 9999AA. ``product_codes=`` (another
  CEPII ``product_codes_HS*_V*.csv``) replaces them.
- Countries are BACI's (``lib/data/baci_countries.csv``). Each has a profile
  (``lib/data/country_profiles.csv``): approximate goods exports (around 2021) and a capability
  anchor, the approximate Atlas of Economic Complexity ECI (our estimate for the countries the
  Atlas does not rank). ``small`` and ``full`` take the largest exporters (``small``: the 150
  largest); ``tiny`` spreads its countries over the size ranking; BACI's own codes (251, 842,
  ...) and the report's countries (GBR, DEU, FRA, ITA, USA, JPN, CAN) are always in.

Model
-----
All randomness comes from ``numpy.random.Generator`` streams derived from the seed with
``SeedSequence(seed, spawn_key=(stream, ...))``, so each year is reproducible on its own (and
years can be generated in parallel) whatever other years are asked for.

1. Countries have a latent *capability* ``a_c`` equal to their anchor plus ``N(0, 0.08)`` in
   2020 (``WALK_ANCHOR_YEAR``), following a slow random walk over the years (steps
   ``N(0, 0.03)``), and an *economy size* ``S_c``: their goods exports (times a little noise)
   in 2020, moving with capability and with steps of their own. Products have a *requirement*
   ``r_p = 1.2 + 0.7 offset + N(0, 0.8)`` where the offset of the product's chapter or section
   follows the Atlas's product complexity by section (instruments, machinery, pharmaceuticals
   and chemicals high; ores, fuels, raw agricultural products, apparel and footwear low; see
   ``SECTION_SOPHISTICATION``, ``CHAPTER_SOPHISTICATION``), a log-normal *size* and a
   log-normal *unit price* (higher for demanding products, ~50 times higher in chapters 71 and
   97).
2. Country c exports p *competitively* when a draw ``u_cp`` falls below
   ``logistic((a_c - r_p) / 0.3)`` (and every country is competitive in a few of the 0.4 %
   least demanding products). One latent order drives every product, so the matrix is nested
   (capable countries export nearly everything, weak ones only the least demanding products);
   since requirements sit mostly above the typical capability, diversification is right-skewed.
   The draws persist: ``u_cp`` comes from ``sqrt(0.93) x`` a static normal of the pair ``+
   sqrt(0.07) x`` one of the year (``PRESENCE_PERSISTENCE``), so a pair's status rarely flips
   between years, as in real trade.
3. Other pairs are exported now and then ("non-competitive", e.g. re-exports; more often by
   large economies; persistent draws as well) with a tiny value: 1 % of the product's expected
   share of the country's exports, so their RCA is far below 1 but above 0. Their frequency is
   solved so that exported pairs fill the size's flow budget (at most 45 % of all cells).
   Country c exports ``world_total(year) * S_c / sum(S)`` in all; what the non-competitive
   pairs leave is split over its competitive products in proportion to product size x a static
   country x chapter *affinity* x persistent log-normal noise (``VALUE_PERSISTENCE``). The
   affinity is log-normal (sd 0.35) plus the known main export sectors of the report's
   countries and of large exporters (``lib/data/specialisations.csv``: aircraft and beverages
   for France, vehicles and machinery for Germany, fuels for oil exporters, ...); half of such a
   boost also adds to the country's capability in that chapter (``SPECIALISATION_REACH``), so
   it exports the chapter's demanding products too.
4. Each exported pair goes to ``1 + Poisson(lambda_cp)`` distinct importers, ``lambda``
   growing with the pair's value and scaled so the year has ~``flows_per_year`` flows. Importers
   are drawn without replacement with probability proportional to ``S_j^0.8`` (exponential-key
   sampling); their shares are ``S_j^0.5`` times log-normal noise (sd 2.5, so flow values spread
   over orders of magnitude as in BACI). Quantity = value / (unit price x log-normal noise);
   3 % of quantities are ``NA``.
5. Product sizes are shifted by HS chapter (iterative fitting in 2020, given who is likely
   competitive and the pairs' static draws) so that each chapter's share of world exports is
   its share in ``lib/data/chapter_world_exports.csv`` (machinery and electronics large,
   textiles small), whatever its number of HS6 codes; only with the whole catalogue.
6. Chapters 71 and 97 (the pipeline's "erratic" items) have twice the value noise; the codes
   999999 and 9999AA are never competitive and exported by a few countries a year.

Calibration, measured on the default release (seed 42, 2020, through the pipeline's yearly
core at HS4; ``tests/datasets/test_synthetic.py`` and ``test_default_calibration.py``,
docs/default-dataset.md): the ECI top 10 holds 8 of the Atlas 2020 top 10; the Atlas 2017
bottom 10 rank 128-149 of 150; the seven large economies' Fitness ranks 1-22; year-to-year
correlation of log exports 0.986; South Africa's sector shares within a few points of its real
BACI 2020 rows; the UK's exports led by machinery, vehicles, pharmaceuticals and chemicals.

Measured on the project machine (one core of 2, otherwise idle): tiny in ~0.5 s, small (11
years, ~90 MB) in ~20 s, one full-width year (9 million flows, ~370 MB) in ~15 s with ~1.1 GB
peak memory. Each year is simulated in numpy and formatted and written with Arrow; a process
holds one year at a time (``workers=N`` runs N years side by side).
"""

from lib.datasets.provenance import SYNTHETIC_MARKER  # noqa: E402, F401
from lib.datasets.synthetic.attributes import attribute_rows, gdp_per_capita  # noqa: F401
from lib.datasets.synthetic.catalogue import (  # noqa: F401
    AFFINITY_SD,
    ANCHOR_NOISE_SD,
    ATTRIBUTES_FILE,
    BACI_SPECIFIC_CODES,
    CAPABILITY_STEP_SD,
    CATALOGUE_SEED,
    CHAPTER_SOPHISTICATION,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    EASIEST_PROBABILITY,
    ERRATIC_CHAPTERS,
    ERRATIC_VALUE_NOISE_SD,
    FULL_FLOWS,
    GENERATOR_VERSION,
    HS_REVISION,
    IMPORTER_SIZE_POWER,
    KEY_FILE,
    LOGISTIC_SCALE,
    MAX_PAIR_DENSITY,
    MIN_COMPETITIVE_SHARE,
    MIN_MEAN_IMPORTERS,
    NA_SHARE,
    NONCOMPETITIVE_RELATIVE,
    PAIR_VALUE_POWER,
    PRESENCE_PERSISTENCE,
    PRICE_NOISE_SD,
    PRODUCT_SIZE_SD,
    Q_WIDTH,
    RELEASE,
    REPORT_COUNTRY_CODES,
    REQUIREMENT_MEAN,
    REQUIREMENT_SD,
    SECTION_SOPHISTICATION,
    SECTION_WEIGHT,
    SHARE_NOISE_SD,
    SHARE_SIZE_POWER,
    SIZE_CAPABILITY_CORR,
    SIZE_STEP_SD,
    SIZES,
    SPECIALISATION_REACH,
    UNIT_PRICE_MEDIAN,
    UNIT_PRICE_SD,
    UNSPECIFIED_CODES,
    UNSPECIFIED_PROBABILITY,
    VALUE_NOISE_SD,
    VALUE_PERSISTENCE,
    WALK_ANCHOR_YEAR,
    WORLD_GROWTH,
    WORLD_KEY_PREFIX,
    WORLD_TOTAL_1995,
    Chapter,
    Country,
    CountryProfile,
    Product,
    SizeSpec,
    hs92_products,
    load_chapter_world_exports,
    load_chapters,
    load_countries,
    load_country_profiles,
    read_product_codes,
    resolve_size,
)
from lib.datasets.synthetic.flows import YearFlows, simulate_year  # noqa: F401
from lib.datasets.synthetic.release import (  # noqa: F401
    default_country_attributes,
    default_release_path,
    ensure_default_release,
    flow_file_name,
    format_flows,
    generate_release,
    release_key,
    world_key,
    write_country_attributes,
    write_country_codes,
    write_flow_file,
    write_latent_truth,
    write_product_codes,
)
from lib.datasets.synthetic.world import World, build_world, country_state, world_total  # noqa: F401
