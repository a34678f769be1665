"""Country report: the analyses of IPPR's "Gathering strength" (2014) for any country.

    ./spark-submit.sh jobs/report.py --country GBR --compare DEU,FRA,ITA,USA,JPN,CAN \\
        --years 1995-2010 [--warehouse PATH] [--out DIR] \\
        [--sectors goods15|hs_sections|PATH.csv [--sector-column NAME]] [--services PATH.csv]

Reads the pipeline's tables (run jobs/fitness.py first), writes the report's Delta tables
(docs/report.md), PNG figures and one self-contained HTML page into --out.

On a warehouse built from a place x activity table (jobs/fitness.py --source TABLE), it draws
the regional report instead (IPPR chapter 4; docs/report.md, "Regional report"):

    ./spark-submit.sh jobs/report.py --warehouse warehouse-regions --out report_regions \\
        [--years 2018-2022] [--group C] [--top 5]

A thin entry point: the work is in ``lib.report``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lib.classifications.sectors import SectorMappingError, load_sector_mapping
from lib.report.countries import CountryError
from lib.report.frames import ReportInputError, deltalake_reader, is_local, resolve_params
from lib.report.services import ServicesFileError, read_services_csv, services_with_codes
from lib.run.cli import add_verbose, with_absolute_warehouse
from lib.run.config import ConfigError, load_config, parse_years

INPUT_ERRORS = (SectorMappingError, ServicesFileError, CountryError, ReportInputError)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", help="ISO3 of the report country (default report.country)")
    parser.add_argument("--compare", help="comma-separated ISO3 codes, e.g. DEU,FRA,USA")
    parser.add_argument("--years", help="e.g. 1995-2010 (default: every year with indicators)")
    parser.add_argument("--warehouse", help="the Delta warehouse (default output.warehouse)")
    parser.add_argument("--out", help="folder for the PNG files and report.html")
    parser.add_argument("--sectors", help="goods15, hs_sections or a CSV mapping hs2/hs4/hs6")
    parser.add_argument("--sector-column", help="sector column of a CSV mapping")
    parser.add_argument("--services", help="services exports CSV (country,year,category,value)")
    parser.add_argument(
        "--group",
        help="regional report: activity group of figure 4.1 (parent_activity or activity "
        "codes, comma-separated; default C, manufacturing, for SIC / NACE)",
    )
    parser.add_argument(
        "--top", type=int, default=5, help="regional report: activities listed per place"
    )
    parser.add_argument("--config", help="a preset TOML layered on conf/default.toml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    add_verbose(parser)
    return parser.parse_args(argv)


def _unknown_services_note(unknown: list[str]) -> str:
    if not unknown:
        return ""
    return (
        f"Services rows of countries unknown to baci_countries were skipped: {', '.join(unknown)}."
    )


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_from(args: argparse.Namespace):
    flags = {
        "report.country": args.country,
        "report.compare": args.compare,
        "report.years": args.years,
        "output.warehouse": args.warehouse,
        "report.sector_scheme": args.sectors,
        "report.sector_column": args.sector_column,
        "report.services": args.services,
    }
    overrides = list(args.overrides) + [f"{k}={_quoted(v)}" for k, v in flags.items() if v]
    return with_absolute_warehouse(load_config(args.config, overrides))


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        config = config_from(args)
    except ConfigError as exc:
        raise SystemExit(f"Configuration error: {exc}") from exc
    cfg, warehouse = config.report, config.output.warehouse
    from lib.report.regional_runner import is_place_activity_warehouse, run_regional_report

    if is_place_activity_warehouse(warehouse):
        groups = [g.strip() for g in args.group.split(",")] if args.group else None
        run_regional_report(config, Path(args.out or "report_regions"), groups, args.top)
        return
    out_dir = Path(args.out or f"report_{cfg.country}")
    params = None
    try:  # every input is checked before Spark starts (tables too, where delta-rs reads them)
        mapping = load_sector_mapping(cfg.sector_scheme, cfg.sector_column)
        services = read_services_csv(cfg.services) if cfg.services else None
        if is_local(warehouse):
            read = deltalake_reader(warehouse)
            params = resolve_params(
                read,
                cfg.country,
                cfg.compare,
                parse_years(cfg.years, "report.years"),
                mapping.scheme,
                cfg.adjacent_top,
            )
            if services is not None:
                services, unknown = services_with_codes(services, read("baci_countries", []))
                params = params.with_note(_unknown_services_note(unknown))
    except INPUT_ERRORS as exc:
        raise SystemExit(f"Report input error: {exc}") from exc

    from lib.report.runner import run_report  # Spark only from here on

    run_report(config, mapping, services, out_dir, params)


if __name__ == "__main__":
    main()
