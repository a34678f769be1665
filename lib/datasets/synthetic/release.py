"""Writing a synthetic release in CEPII's layout: flow files, code lists, the latent truth and the README, the release key, and the embedded default release (generated once, under a lock).

The only module of the generator that touches the file system.

Must not change a generated release in place: a new key makes a new folder.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lib.datasets.provenance import SYNTHETIC_MARKER
from lib.datasets.synthetic.attributes import attribute_rows
from lib.datasets.synthetic.catalogue import (
    ATTRIBUTES_FILE,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    GENERATOR_VERSION,
    HS_REVISION,
    KEY_FILE,
    Q_WIDTH,
    RELEASE,
    WORLD_KEY_PREFIX,
    SizeSpec,
    _data_text,
    resolve_size,
)
from lib.datasets.synthetic.flows import YearFlows, simulate_year
from lib.datasets.synthetic.world import World, build_world, country_state
from lib.run import progress

# --- writing ---------------------------------------------------------------------------------


def flow_file_name(year: int) -> str:
    return f"BACI_HS{HS_REVISION}_Y{year}_{RELEASE}.csv"


def _format_milli(milli: np.ndarray) -> pa.Array:
    """Integers in thousandths -> exact ``"123.045"`` strings (vectorised with Arrow)."""
    whole = pc.cast(pa.array(milli // 1000), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(milli % 1000), pa.string()), width=3, padding="0")
    return pc.binary_join_element_wise(whole, fraction, ".")


def format_flows(world: World, flows: YearFlows) -> pa.Table:
    """The year's flows as BACI's text columns (``q`` padded to ``Q_WIDTH``, ``NA`` missing)."""
    codes = pa.array(world.product_codes, pa.string())
    country_codes = pa.array(world.country_codes)
    quantity = pc.if_else(pa.array(flows.q_na), "NA", _format_milli(flows.q_milli))
    return pa.table(
        {
            "t": pa.repeat(pa.scalar(flows.year, pa.int16()), len(flows)),
            "i": pc.take(country_codes, pa.array(flows.exporter)),
            "j": pc.take(country_codes, pa.array(flows.importer)),
            "k": pc.take(codes, pa.array(flows.product)),
            "v": _format_milli(flows.v_milli),
            "q": pc.utf8_lpad(quantity, width=Q_WIDTH, padding=" "),
        }
    )


def write_flow_file(world: World, year: int, out_dir: Path) -> tuple[int, float]:
    """Simulate and write one year; returns (number of flows, seconds). Atomic via rename."""
    start = time.perf_counter()
    flows = simulate_year(world, year)
    table = format_flows(world, flows)
    path = out_dir / flow_file_name(year)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as handle:
        handle.write(b"t,i,j,k,v,q\n")
        options = pacsv.WriteOptions(include_header=False, quoting_style="none")
        pacsv.write_csv(table, handle, options)
    partial.replace(path)
    return len(flows), time.perf_counter() - start


def _write_text_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """UTF-8, LF, fields quoted only when needed (as CEPII's companion files)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_country_codes(world: World, out_dir: Path) -> Path:
    path = out_dir / f"country_codes_{RELEASE}.csv"
    rows = ((c.code, c.name, c.iso2, c.iso3) for c in world.all_countries)
    _write_text_csv(path, ("country_code", "country_name", "country_iso2", "country_iso3"), rows)
    return path


def write_product_codes(world: World, out_dir: Path) -> Path:
    path = out_dir / f"product_codes_HS{HS_REVISION}_{RELEASE}.csv"
    rows = ((p.code, p.description) for p in world.products)
    _write_text_csv(path, ("code", "description"), rows)
    return path


def write_latent_truth(world: World, years: Sequence[int], out_dir: Path) -> None:
    """Latent capabilities by year and product requirements (not BACI; for tests)."""
    rows = []
    for year in years:
        capability, _ = country_state(world, year)
        rows.extend(
            (year, c.code, f"{a:.6f}") for c, a in zip(world.countries, capability, strict=True)
        )
    _write_text_csv(out_dir / "latent_truth.csv", ("year", "country_code", "capability"), rows)
    products = (
        (p.code, f"{r:.6f}") for p, r in zip(world.products, world.requirement, strict=True)
    )
    _write_text_csv(out_dir / "latent_products.csv", ("product", "requirement"), products)


def write_country_attributes(world: World, years: Sequence[int], out_dir: Path) -> Path:
    """The SYNTHETIC GDP per capita of every country and year (not BACI; the pipeline's country
    attributes format, ``lib.datasets.synthetic.attributes``)."""
    path = out_dir / ATTRIBUTES_FILE
    header = ("country", "year", "population", "gdp_per_capita")
    _write_text_csv(path, header, attribute_rows(world, years))
    return path


def world_key(world: World) -> str:
    """Everything a year's flows depend on besides the year: one folder must not mix two."""
    digest = hashlib.sha256("\n".join(world.product_codes).encode("utf-8")).hexdigest()[:12]
    return (
        f"generator={GENERATOR_VERSION} seed={world.seed} countries={len(world.countries)} "
        f"products={len(world.products)}:{digest} flows_per_year={world.spec.flows_per_year}"
    )


def _recorded_world_key(out_dir: Path) -> str | None:
    readme = out_dir / SYNTHETIC_MARKER
    if not readme.is_file():
        return None
    for line in readme.read_text(encoding="utf-8").splitlines():
        if line.startswith(WORLD_KEY_PREFIX):
            return line[len(WORLD_KEY_PREFIX) :].strip("`")
    return None


def _years_in_folder(out_dir: Path) -> set[int]:
    pattern = re.compile(rf"^BACI_HS{HS_REVISION}_Y(\d{{4}})_{RELEASE}\.csv$")
    return {int(m.group(1)) for p in out_dir.iterdir() if (m := pattern.match(p.name))}


def _count_rows(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b"")) - 1


def _write_readme(world: World, counts: dict[int, int], out_dir: Path) -> None:
    spec, years = world.spec, sorted(counts)
    flows = ", ".join(f"{y}: {counts[y]:,}" for y in years) or "(generation in progress)"
    span = f"{years[0]}-{years[-1]} ({len(years)})" if years else "(generation in progress)"
    lines = [
        "# SYNTHETIC BACI release (not real trade data)",
        "",
        "Generated by `lib/datasets/synthetic/` of ecomplexity-spark in CEPII BACI's layout "
        f"(`BACI_HS{HS_REVISION}_Y*_{RELEASE}.csv`; {RELEASE} is not a CEPII release). The "
        "flows come from a latent capability model calibrated to public figures (see the "
        "module docstring): countries and HS92 products are real, their trade is invented. "
        "Illustrative only: do not use for any economic conclusion.",
        "",
        f"- generator version: {GENERATOR_VERSION}",
        f"- seed: {world.seed}",
        f"- size: {spec.name} ({len(world.countries)} countries, {len(world.products)} products, "
        f"target {spec.flows_per_year:,} flows per year)",
        f"- years: {span}",
        f"- flows per year: {flows}",
        "- not part of BACI: latent_truth.csv (year, country_code, capability), "
        "latent_products.csv (product, requirement), "
        f"{ATTRIBUTES_FILE} (SYNTHETIC GDP per capita: country, year, population, "
        "gdp_per_capita; the default job's input.country_attributes), this file",
        f"{WORLD_KEY_PREFIX}`{world_key(world)}`",
        "",
    ]
    (out_dir / SYNTHETIC_MARKER).write_text("\n".join(lines), encoding="utf-8")


def _year_task(args: tuple[World, int, str]) -> tuple[int, int, float]:
    world, year, out_dir = args
    n_flows, seconds = write_flow_file(world, year, Path(out_dir))
    return year, n_flows, seconds


def generate_release(
    out_dir: str | os.PathLike[str],
    size: str | SizeSpec = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
    years: Iterable[int] | None = None,
    product_codes: str | os.PathLike[str] | None = None,
    workers: int = 1,
    progress: Callable[[int, int, float], None] | None = None,
) -> Path:
    """Write a synthetic BACI release into ``out_dir`` and return its path.

    ``years`` overrides the size's years (each year is identical whichever others are made);
    ``product_codes`` is a real BACI product list to use instead of the synthetic catalogue;
    ``workers > 1`` makes years in parallel processes (each holds one year in memory);
    ``progress(year, n_flows, seconds)`` is called as each year is written.

    Flow files of other years already in ``out_dir`` are kept if they come from the same seed
    and size (SYNTHETIC.md and latent_truth.csv then cover all of them); otherwise the call
    refuses, so a folder never mixes two releases.
    """
    spec = resolve_size(size)
    year_list = sorted(set(years)) if years is not None else list(spec.years)
    if years is not None:
        spec = dataclasses.replace(spec, years=tuple(year_list))
    world = build_world(spec, seed, product_codes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kept_years = _years_in_folder(out) - set(year_list)
    if kept_years and _recorded_world_key(out) != world_key(world):
        raise ValueError(
            f"{out} already holds BACI flow files for {sorted(kept_years)} that are not from "
            "this seed and size; write into an empty folder (a year can be regenerated into "
            "an existing release only with the same seed and size)"
        )
    counts = {year: _count_rows(out / flow_file_name(year)) for year in kept_years}
    _write_readme(world, counts, out)  # records the world key before any year is written
    write_country_codes(world, out)
    write_product_codes(world, out)
    for year, n_flows, seconds in _run_years(world, year_list, out, workers):
        counts[year] = n_flows
        if progress is not None:
            progress(year, n_flows, seconds)
    write_latent_truth(world, sorted(counts), out)
    write_country_attributes(world, sorted(counts), out)
    _write_readme(world, counts, out)
    return out


def _run_years(
    world: World, years: Sequence[int], out: Path, workers: int
) -> Iterator[tuple[int, int, float]]:
    tasks = [(world, year, str(out)) for year in years]
    if workers <= 1 or len(years) == 1:
        yield from map(_year_task, tasks)
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(years))) as pool:
        yield from pool.map(_year_task, tasks)


# --- the embedded default release ------------------------------------------------------------


def _generated_root() -> Path:
    """``data/generated`` of the project (or $ECX_GENERATED_DIR).

    When ``lib`` is not in the project folder (imported from the zip spark-submit ships with
    --py-files, or installed), the current directory, which spark-submit.sh sets to the root.
    """
    override = os.environ.get("ECX_GENERATED_DIR")
    if override:
        return Path(override)
    project = Path(__file__).resolve().parents[3]
    root = project if (project / "pyproject.toml").is_file() else Path.cwd()
    return root / "data" / "generated"


def default_release_path() -> Path:
    return _generated_root() / "default"


def default_country_attributes() -> Path:
    """The embedded default release's SYNTHETIC country attributes (GDP per capita)."""
    return default_release_path() / ATTRIBUTES_FILE


def release_key(size: str | SizeSpec = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> str:
    """What a generated release depends on: version, seed, size, and a digest of the generator's
    source and data tables, so that any change to them regenerates the default release."""
    digest = hashlib.sha256()
    package = resources.files("lib.datasets.synthetic")  # also inside the zip shipped to nodes
    for module in sorted(package.iterdir(), key=lambda entry: entry.name):
        if module.name.endswith(".py"):
            digest.update(module.name.encode() + b"\0" + module.read_bytes())
    for name in (
        "hs_chapters.csv",
        "baci_countries.csv",
        "country_profiles.csv",
        "hs92_products.csv",
        "specialisations.csv",
        "chapter_world_exports.csv",
        "gdp_per_capita_1998_2000.csv",
    ):
        digest.update(_data_text(name).encode("utf-8"))
    spec = resolve_size(size)
    return (
        f"generator={GENERATOR_VERSION} seed={seed} size={spec!r} source={digest.hexdigest()[:16]}"
    )


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """An advisory file lock, so concurrent first uses generate the release only once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            import fcntl
        except ImportError:  # not POSIX: no locking
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_current(path: Path, key: str) -> bool:
    key_file = path / KEY_FILE
    return key_file.is_file() and key_file.read_text(encoding="utf-8") == key


def ensure_default_release(
    path: str | os.PathLike[str] | None = None,
    size: str | SizeSpec = DEFAULT_SIZE,
    seed: int = DEFAULT_SEED,
) -> Path:
    """The default synthetic release, generated on first use (~15 s) and reused after.

    It is regenerated when the generator (version, source, data tables), the seed or the size
    changes. Generation goes to a temporary folder renamed at the end, so an interrupted run
    never leaves a half release behind.
    """
    target = Path(path) if path is not None else default_release_path()
    key = release_key(size, seed)
    if _is_current(target, key):
        return target
    with _exclusive_lock(target.parent / f".{target.name}.lock"):
        if _is_current(target, key):
            return target
        for stale in target.parent.glob(f".{target.name}.tmp-*"):  # left by killed runs
            shutil.rmtree(stale, ignore_errors=True)
        staging = target.parent / f".{target.name}.tmp-{os.getpid()}"
        n_years = len(resolve_size(size).years)
        what = f"generating the synthetic release ({n_years} years) into {target}"
        with progress.stage("default data", total=n_years, unit="year", detail=what) as stage:
            generate_release(
                staging,
                size=size,
                seed=seed,
                progress=lambda year, flows, _: stage.advance(1, f"{year}: {flows:,} flows"),
            )
        (staging / KEY_FILE).write_text(key, encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    return target
