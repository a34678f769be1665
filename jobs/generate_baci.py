"""Generate a synthetic BACI release in CEPII's layout (no Spark needed).

    python jobs/generate_baci.py --out /tmp/baci_tiny --size tiny
    python jobs/generate_baci.py --out data/generated/full --size full --workers 2
    python jobs/generate_baci.py --out /tmp/one_year --size full --years 2024
    python jobs/generate_baci.py --out /tmp/real_codes --size small \\
        --product-codes BACI_HS92_V202401/product_codes_HS92_V202401.csv

The data are synthetic (see lib/datasets/synthetic/ for the model); the folder gets a SYNTHETIC.md
saying so. Each year depends only on the seed, the size and the year, so a single year can be
regenerated identically, and ``--workers N`` makes years in parallel processes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.datasets.synthetic import SizeSpec


def _ensure_project_importable() -> None:
    """Run as ``python jobs/generate_baci.py`` without an installed package: add the root."""
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:
        sys.path.insert(0, root)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write a synthetic CEPII BACI release (tiny, small or full size)."
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--size", default="small", choices=("tiny", "small", "full"))
    parser.add_argument("--years", default="", help="e.g. 1995-2024 or 2019,2020 (default: size's)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: 42)")
    parser.add_argument(
        "--product-codes",
        type=Path,
        default=None,
        help="a real BACI product_codes_HS92_V*.csv to use its codes instead of synthetic ones",
    )
    parser.add_argument("--workers", type=int, default=1, help="years made in parallel")
    parser.add_argument("--countries", type=int, default=None, help="override: number of countries")
    parser.add_argument("--products", type=int, default=None, help="override: number of products")
    parser.add_argument(
        "--flows-per-year", type=int, default=None, help="override: target flows per year"
    )
    return parser.parse_args(argv)


def build_size(args: argparse.Namespace) -> SizeSpec:
    """The named size, or a custom SizeSpec when any override is given."""
    from lib.datasets import synthetic
    from lib.run.config import parse_years

    base = synthetic.resolve_size(args.size)
    years = parse_years(args.years, key="--years")
    overrides = (args.countries, args.products, args.flows_per_year)
    if years is None and all(value is None for value in overrides):
        return base
    return dataclasses.replace(
        base,
        years=tuple(years) if years else base.years,
        n_countries=args.countries or base.n_countries,
        n_products=args.products or base.n_products,
        flows_per_year=args.flows_per_year or base.flows_per_year,
        name=base.name if all(value is None for value in overrides) else f"{base.name}-custom",
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _ensure_project_importable()
    from lib.datasets import synthetic
    from lib.run.config import ConfigError

    try:
        size = build_size(args)
    except (ConfigError, ValueError) as exc:
        print(f"generate_baci: {exc}", file=sys.stderr)
        return 2
    seed = synthetic.DEFAULT_SEED if args.seed is None else args.seed
    print(f"generating {size.name} release ({len(size.years)} years, seed {seed}) in {args.out}")
    start = time.perf_counter()

    def report(year: int, n_flows: int, seconds: float) -> None:
        print(f"  {year}: {n_flows:,} flows in {seconds:.1f} s", flush=True)

    synthetic.generate_release(
        args.out,
        size=size,
        seed=seed,
        product_codes=args.product_codes,
        workers=args.workers,
        progress=report,
    )
    print(f"done in {time.perf_counter() - start:.1f} s: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
