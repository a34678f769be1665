"""The synthetic BACI generator: determinism, CEPII's exact layout, realism, package data.

No Spark. Releases are generated at the "tiny" size into tmp folders (~0.5 s each); one year of
the "small" size is simulated in memory for the realism checks at full product width.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import skew, spearmanr

from lib import synthetic
from lib.synthetic import SIZES, SizeSpec, generate_release
from tests.conftest import PROJECT_ROOT, data_path

FLOW_LINE = re.compile(
    r"^(\d{4}),(\d+),(\d+),([0-9]{6}|9999AA),(\d+\.\d{3}),( *(?:\d+\.\d{3}|NA))$"
)
EXCLUDED_CHAPTERS = ("71", "97", "99")  # erratic items and BACI's unspecified codes


# --- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_release(tmp_path_factory.mktemp("tiny") / "release", "tiny", seed=7)


def flow_files(release: Path) -> list[Path]:
    return sorted(release.glob("BACI_HS92_Y*_V202401.csv"))


def read_flows(path: Path) -> pd.DataFrame:
    """Flows with values, codes kept as text (as the pipeline reads them)."""
    return pd.read_csv(path, usecols=["t", "i", "j", "k", "v"], dtype={"k": str})


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def presence_from_flows(flows: pd.DataFrame) -> tuple[np.ndarray, list[int]]:
    """Balassa RCA >= 1 from exports aggregated to (exporter, product), erratic items excluded."""
    kept = flows[~flows["k"].str[:2].isin(EXCLUDED_CHAPTERS)]
    exports = kept.pivot_table(index="i", columns="k", values="v", aggfunc="sum", fill_value=0.0)
    return balassa_presence(exports.to_numpy()), exports.index.tolist()


def balassa_presence(X: np.ndarray) -> np.ndarray:
    rca = (X / X.sum(axis=1, keepdims=True)) / (X.sum(axis=0) / X.sum())
    return rca >= 1


def nodf(M: np.ndarray) -> float:
    """NODF (Almeida-Neto et al. 2008), 0-100, vectorised: pairs with strictly larger degree."""
    M = M[M.sum(axis=1) > 0][:, M.sum(axis=0) > 0].astype(np.float64)

    def paired(A: np.ndarray) -> tuple[float, int]:
        degree = A.sum(axis=1)
        overlap = A @ A.T
        larger = degree[:, None] > degree[None, :]
        return float((overlap / degree[None, :])[larger].sum()), len(degree) * (
            len(degree) - 1
        ) // 2

    rows, row_pairs = paired(M)
    cols, col_pairs = paired(M.T)
    return 100 * (rows + cols) / (row_pairs + col_pairs)


def ce_null(M: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Bascompte et al. (2003) null: P_cp = (k_c / n_p + k_p / n_c) / 2, degrees kept on average."""
    n_c, n_p = M.shape
    p = (M.sum(axis=1, keepdims=True) / n_p + M.sum(axis=0, keepdims=True) / n_c) / 2
    return rng.random(M.shape) < p


def row_shuffle_null(M: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each country keeps its exact diversity; its products are shuffled (degree-preserving)."""
    return np.array([rng.permutation(row) for row in M])


def curveball_null(M: np.ndarray, rng: np.random.Generator, rounds: int = 5) -> np.ndarray:
    """Strioli et al. curveball: both degree sequences kept exactly (the fixed-fixed null)."""
    rows = [set(np.flatnonzero(row)) for row in M]
    for _ in range(rounds * len(rows)):
        a, b = rng.choice(len(rows), size=2, replace=False)
        only_a, only_b = rows[a] - rows[b], rows[b] - rows[a]
        pool = list(only_a | only_b)
        rng.shuffle(pool)
        shared = rows[a] & rows[b]
        rows[a], rows[b] = shared | set(pool[: len(only_a)]), shared | set(pool[len(only_a) :])
    out = np.zeros(M.shape, dtype=bool)
    for i, row in enumerate(rows):
        out[i, list(row)] = True
    return out


def fitness(M: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Tacchella et al. (2012) country fitness, plain numpy (a reference, not the pipeline's)."""
    M = M.astype(np.float64)
    F, Q = np.ones(M.shape[0]), np.ones(M.shape[1])
    for _ in range(iterations):
        F_new, Q_new = M @ Q, 1 / (M.T @ (1 / F))
        F, Q = F_new / F_new.mean(), Q_new / Q_new.mean()
    return F


# --- determinism ---------------------------------------------------------------------------


def release_bytes(release: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(release.iterdir()) if p.is_file()}


def test_same_seed_gives_identical_bytes(tiny_release: Path, tmp_path: Path) -> None:
    again = generate_release(tmp_path / "again", "tiny", seed=7)
    assert release_bytes(again) == release_bytes(tiny_release)


def test_different_seed_gives_different_flows(tiny_release: Path, tmp_path: Path) -> None:
    other = generate_release(tmp_path / "other", "tiny", seed=8)
    for name in ("BACI_HS92_Y2020_V202401.csv", "latent_truth.csv"):
        assert (other / name).read_bytes() != (tiny_release / name).read_bytes()
    # The classification does not depend on the trade seed.
    name = "product_codes_HS92_V202401.csv"
    assert (other / name).read_bytes() == (tiny_release / name).read_bytes()


def test_a_year_does_not_depend_on_the_other_years(tiny_release: Path, tmp_path: Path) -> None:
    single = generate_release(tmp_path / "single", "tiny", seed=7, years=[2019])
    assert [p.name for p in flow_files(single)] == ["BACI_HS92_Y2019_V202401.csv"]
    name = "BACI_HS92_Y2019_V202401.csv"
    assert (single / name).read_bytes() == (tiny_release / name).read_bytes()


def test_years_added_to_a_release_and_foreign_years_refused(tmp_path: Path) -> None:
    release = generate_release(tmp_path / "release", "tiny", seed=7, years=[2019])
    generate_release(release, "tiny", seed=7, years=[2020])
    assert [p.name for p in flow_files(release)] == [
        "BACI_HS92_Y2019_V202401.csv",
        "BACI_HS92_Y2020_V202401.csv",
    ]
    assert sorted(pd.read_csv(release / "latent_truth.csv")["year"].unique()) == [2019, 2020]
    assert "- years: 2019-2020 (2)" in (release / "SYNTHETIC.md").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="empty folder"):
        generate_release(release, "tiny", seed=8, years=[2018])


def test_parallel_workers_write_the_same_files(tiny_release: Path, tmp_path: Path) -> None:
    parallel = generate_release(tmp_path / "parallel", "tiny", seed=7, workers=2)
    assert release_bytes(parallel) == release_bytes(tiny_release)


# --- CEPII layout --------------------------------------------------------------------------


def test_release_has_cepii_file_names(tiny_release: Path) -> None:
    names = {p.name for p in tiny_release.iterdir()}
    assert {f"BACI_HS92_Y{y}_V202401.csv" for y in (2018, 2019, 2020)} <= names
    assert {"country_codes_V202401.csv", "product_codes_HS92_V202401.csv"} <= names
    assert {"SYNTHETIC.md", "latent_truth.csv", "latent_products.csv"} <= names
    readme = (tiny_release / "SYNTHETIC.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "seed: 7" in readme and "size: tiny" in readme
    assert f"generator version: {synthetic.GENERATOR_VERSION}" in readme


def test_flow_files_follow_baci_format(tiny_release: Path) -> None:
    products = {r["code"] for r in read_csv_rows(tiny_release / "product_codes_HS92_V202401.csv")}
    countries = {
        int(r["country_code"]) for r in read_csv_rows(tiny_release / "country_codes_V202401.csv")
    }
    for path in flow_files(tiny_release):
        year = int(re.search(r"_Y(\d{4})_", path.name).group(1))
        lines = path.read_text(encoding="utf-8").split("\n")
        assert lines[0] == "t,i,j,k,v,q" and lines[-1] == ""  # LF endings, final newline
        keys, n_na = set(), 0
        previous = (-1, -1, "")
        for line in lines[1:-1]:
            match = FLOW_LINE.match(line)
            assert match, f"{path.name}: malformed line {line!r}"
            t, i, j, k, v, q = match.groups()
            assert int(t) == year and int(i) != int(j) and float(v) >= 0.001
            assert int(i) in countries and int(j) in countries and k in products
            # q: right-aligned to width 13 (as the real rows), NA the same way, never cut.
            assert q == q.strip().rjust(synthetic.Q_WIDTH)
            assert q.strip() == "NA" or float(q) >= 0.001
            n_na += q.strip() == "NA"
            key = (int(i), int(j), k)
            assert key > previous, "rows sorted by exporter, importer, product, no duplicates"
            keys.add(key)
            previous = key
        n_rows = len(lines) - 2
        assert len(keys) == n_rows
        assert 0.015 < n_na / n_rows < 0.045, f"NA share {n_na / n_rows:.3f}"


def test_flow_counts_match_the_size(tiny_release: Path) -> None:
    for path in flow_files(tiny_release):
        n_rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
        assert 3_000 <= n_rows <= 5_000, (path.name, n_rows)


def test_values_look_like_baci(tiny_release: Path) -> None:
    """Exactly three decimals, strictly positive, spread over orders of magnitude."""
    flows = read_flows(tiny_release / "BACI_HS92_Y2020_V202401.csv")
    assert (flows["v"] > 0).all()
    low, high = np.percentile(flows["v"], [10, 90])
    assert high / low > 100


def test_erratic_and_unspecified_products_are_present(tiny_release: Path) -> None:
    flows = pd.concat(read_flows(p) for p in flow_files(tiny_release))
    chapters = flows["k"].str[:2]
    assert (chapters == "71").any() and (chapters == "97").any()
    unspecified = flows["k"].isin(synthetic.UNSPECIFIED_CODES)
    assert 0 < unspecified.sum() < 0.01 * len(flows), "a few 999999/9999AA rows"


def test_country_code_file(tiny_release: Path) -> None:
    text = (tiny_release / "country_codes_V202401.csv").read_text(encoding="utf-8")
    assert text.startswith("country_code,country_name,country_iso2,country_iso3\n")
    assert '\n490,"Other Asia, nes",,S19\n' in text  # quoted only where a comma requires it
    assert "\n516,Namibia,NA,NAM\n" in text
    assert "Türkiye" in text and "Côte d'Ivoire" in text
    rows = read_csv_rows(tiny_release / "country_codes_V202401.csv")
    assert len(rows) == len(synthetic.load_countries())


def test_product_code_file(tiny_release: Path) -> None:
    path = tiny_release / "product_codes_HS92_V202401.csv"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("code,description\n")
    rows = read_csv_rows(path)
    codes = [r["code"] for r in rows]
    assert len(rows) == SIZES["tiny"].n_products
    assert all(len(code) == 6 for code in codes) and codes == sorted(set(codes))
    assert {"999999", "9999AA"} <= set(codes)
    assert any(code.startswith("0") for code in codes)  # leading zeros kept
    for line in text.splitlines()[1:]:
        code, rest = line.split(",", 1)
        assert len(code) == 6
        assert ("," not in rest) or (rest.startswith('"') and rest.endswith('"'))


def test_latent_truth_files(tiny_release: Path) -> None:
    truth = pd.read_csv(tiny_release / "latent_truth.csv")
    assert list(truth.columns) == ["year", "country_code", "capability"]
    assert sorted(truth["year"].unique()) == [2018, 2019, 2020]
    assert truth.groupby("year").size().eq(SIZES["tiny"].n_countries).all()
    wide = truth.pivot(index="country_code", columns="year", values="capability")
    assert wide[2018].corr(wide[2020]) > 0.98, "capability evolves slowly"
    assert not np.allclose(wide[2018], wide[2020]), "but it does evolve"
    products = pd.read_csv(tiny_release / "latent_products.csv", dtype={"product": str})
    assert list(products.columns) == ["product", "requirement"]
    listed = {r["code"] for r in read_csv_rows(tiny_release / "product_codes_HS92_V202401.csv")}
    assert set(products["product"]) == listed


# --- realism -------------------------------------------------------------------------------
#
# Thresholds, with the values observed for seeds 0-9 (tiny, 3 years each) and 0-1 (small):
#   Spearman(latent capability, diversity)         > 0.8      [tiny 0.96-0.99, small 0.997]
#   Pearson(diversity, mean ubiquity of products)   < -0.6     [-0.81 .. -0.97]
#   skewness of diversity > 0.3 and mean > median              [0.6 .. 1.5]
#   NODF - NODF of the Bascompte CE null (degrees kept on average)  >= 5   [tiny >= 7, small 15]
#   NODF / NODF of a row shuffle (each country keeps its diversity) >= 1.1 [tiny >= 1.15, small 1.5]
#   NODF - NODF of the curveball null (both degree sequences kept exactly):
#       tiny >= -1 [+0.7 .. +3], small >= +2 [+4].
# Against the fixed-fixed (curveball) null the margin is small by nature: for a matrix driven by
# one latent order (P_cp increasing in a_c - r_p) the degree sequences already imply most of
# the nestedness (measured on noise-free logistic matrices too), as reported for real networks
# by Payrato-Borras et al. (2019). It still rules out band-like (anti-nested) structure.


def assert_realistic(
    M: np.ndarray, capability: np.ndarray, rng: np.random.Generator, curveball_margin: float
) -> None:
    diversity, ubiquity = M.sum(axis=1), M.sum(axis=0)
    assert spearmanr(capability, diversity)[0] > 0.8
    has_any = diversity > 0
    mean_ubiquity = (M[has_any] @ ubiquity) / diversity[has_any]
    assert np.corrcoef(diversity[has_any], mean_ubiquity)[0, 1] < -0.6
    assert skew(diversity) > 0.3 and diversity.mean() > np.median(diversity)

    observed = nodf(M)
    assert observed >= nodf(ce_null(M, rng)) + 5
    assert observed >= 1.1 * nodf(row_shuffle_null(M, rng))
    assert observed >= nodf(curveball_null(M, rng, rounds=20)) + curveball_margin


def test_tiny_release_is_nested_and_skewed(tiny_release: Path) -> None:
    truth = pd.read_csv(tiny_release / "latent_truth.csv")
    rng = np.random.default_rng(0)
    for path in flow_files(tiny_release):
        flows = read_flows(path)
        M, exporters = presence_from_flows(flows)
        year = int(flows["t"].iloc[0])
        capability = truth[truth["year"] == year].set_index("country_code")["capability"]
        assert_realistic(M, capability.loc[exporters].to_numpy(), rng, curveball_margin=-1)


def test_small_year_is_nested_and_skewed() -> None:
    """One year at the default release's width (150 countries x ~5,000 products), in memory."""
    world = synthetic.build_world(SIZES["small"], synthetic.DEFAULT_SEED)
    flows = synthetic.simulate_year(world, 2020)
    assert 300_000 <= len(flows) <= 600_000
    X = np.zeros((len(world.countries), len(world.products)))
    np.add.at(X, (flows.exporter, flows.product), flows.v_milli / 1000)
    kept = [p.code[:2] not in EXCLUDED_CHAPTERS for p in world.products]
    M = balassa_presence(X[:, kept])
    capability, _ = synthetic.country_state(world, 2020)
    rng = np.random.default_rng(0)
    columns = rng.choice(M.shape[1], size=800, replace=False)  # NODF on a column sample
    assert_realistic(M[:, columns], capability, rng, curveball_margin=2)
    assert spearmanr(capability, M.sum(axis=1))[0] > 0.95


def test_fitness_recovers_the_capability_order(tiny_release: Path) -> None:
    truth = pd.read_csv(tiny_release / "latent_truth.csv")
    flows = read_flows(tiny_release / "BACI_HS92_Y2020_V202401.csv")
    M, exporters = presence_from_flows(flows)
    capability = truth[truth["year"] == 2020].set_index("country_code")["capability"]
    assert spearmanr(capability.loc[exporters], fitness(M))[0] > 0.9


# --- product catalogue and custom product lists --------------------------------------------


def test_synthetic_catalogue_is_hs_shaped() -> None:
    catalogue = synthetic.synthetic_product_catalogue()
    codes = [p.code for p in catalogue]
    assert codes == sorted(set(codes)) and codes == [
        p.code for p in synthetic.synthetic_product_catalogue()
    ]
    assert 4_500 <= len(codes) <= 5_500
    regular = [c for c in codes if c not in synthetic.UNSPECIFIED_CODES]
    assert all(c.isdigit() and len(c) == 6 for c in regular)
    headings = pd.Series(regular).str[:4]
    assert 1_100 <= headings.nunique() <= 1_300
    assert headings.value_counts().between(1, 8).all()
    last = {c.hs2: c.last_heading for c in synthetic.load_chapters()}
    assert all(h[:2] in last and h[2:] >= "01" and h <= last[h[:2]] for h in headings.unique())
    assert catalogue[0].description.startswith("Synthetic subheading 0101.")


def test_real_product_list_replaces_synthetic_codes(tmp_path: Path) -> None:
    product_file = tmp_path / "product_codes_HS92_V202401.csv"
    rows = [("010111", "Horses: live, pure-bred breeding animals")]
    rows += [(f"{n:02d}0110", f"Product {n}, synthetic") for n in range(1, 40)]
    rows += [("999999", "Not specified"), ("9999AA", "Not specified, legacy")]
    with open(product_file, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([("code", "description"), *rows])
    spec = SizeSpec(years=(2020,), n_countries=12, n_products=None, flows_per_year=800)
    release = generate_release(tmp_path / "release", spec, seed=1, product_codes=product_file)
    written = read_csv_rows(release / "product_codes_HS92_V202401.csv")
    assert {(r["code"], r["description"]) for r in written} == set(rows)
    flows = read_flows(release / "BACI_HS92_Y2020_V202401.csv")
    assert len(flows) > 0 and set(flows["k"]) <= {code for code, _ in rows}


def test_size_spec_validation() -> None:
    with pytest.raises(ValueError, match="unknown size"):
        synthetic.resolve_size("huge")
    with pytest.raises(ValueError, match="years"):
        SizeSpec(years=(), n_countries=10, n_products=100, flows_per_year=100)
    with pytest.raises(ValueError, match="country table"):
        synthetic.build_world(SizeSpec((2020,), 10_000, 100, 100), seed=1)


# --- our own data tables -------------------------------------------------------------------


def test_chapter_table() -> None:
    chapters = synthetic.load_chapters()
    hs2 = [c.hs2 for c in chapters]
    assert hs2 == [f"{n:02d}" for n in range(1, 98) if n != 77]
    assert {c.section_number for c in chapters} == set(range(1, 22))
    last = {c.hs2: c.last_heading for c in chapters}
    assert (last["01"], last["84"], last["85"], last["97"]) == ("0106", "8485", "8548", "9706")
    assert all(c.last_heading[:2] == c.hs2 for c in chapters)
    assert sum(int(c.last_heading[2:]) for c in chapters) == 1241  # HS 1992 has 1,241 headings
    romans = {c.section_number: c.section_roman for c in chapters}
    assert romans[1] == "I" and romans[14] == "XIV" and romans[21] == "XXI"


def test_chapter_sections_agree_with_reference_mapping() -> None:
    reference = pd.read_csv(data_path("mappings", "hs2_sectors.csv"), dtype=str)
    reference = reference[reference["hs2"] != "99"]  # BACI's pseudo-chapter, no HS section
    expected = dict(zip(reference["hs2"], reference["hs_section_number"].astype(int), strict=True))
    chapters = synthetic.load_chapters()
    assert {c.hs2 for c in chapters} == set(expected)
    for chapter in chapters:
        assert chapter.section_number == expected[chapter.hs2], chapter.hs2


def test_last_headings_agree_with_real_baci_product_list() -> None:
    path = data_path("baci_v202401_codes", "product_codes_HS92_V202401.csv")
    codes = pd.read_csv(path, dtype=str, keep_default_na=False)["code"]
    real_last = codes.str[:4].groupby(codes.str[:2]).max()
    for chapter in synthetic.load_chapters():
        assert chapter.last_heading == real_last[chapter.hs2], chapter.hs2


def test_country_table() -> None:
    countries = synthetic.load_countries()
    assert 210 <= len(countries) <= 240
    codes = [c.code for c in countries]
    assert len(set(codes)) == len(codes) and len({c.iso3 for c in countries}) == len(countries)
    iso3 = {c.code: c.iso3 for c in countries}
    baci_own = {251: "FRA", 842: "USA", 699: "IND", 757: "CHE", 579: "NOR", 490: "S19"}
    assert {code: iso3[code] for code in baci_own} == baci_own
    assert {250, 840, 356, 756, 578}.isdisjoint(codes), "ISO codes BACI replaces"
    assert next(c for c in countries if c.code == 516).iso2 == "NA"  # Namibia, not a null


def test_country_table_agrees_with_real_baci_codes() -> None:
    path = data_path("baci_v202401_codes", "country_codes_V202401.csv")
    reference = pd.read_csv(path, dtype=str, keep_default_na=False)
    real_iso3 = dict(
        zip(reference["country_code"].astype(int), reference["country_iso3"], strict=True)
    )
    for country in synthetic.load_countries():
        assert real_iso3.get(country.code) == country.iso3, (country.code, country.name)


def test_package_data_is_read_from_a_zip(tmp_path: Path) -> None:
    """spark-submit ships lib/ as a zip: the tables must load through importlib.resources."""
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("__init__.py", "synthetic.py", "data/__init__.py", "data/hs_chapters.csv",
                     "data/baci_countries.csv"):  # fmt: skip
            zf.write(PROJECT_ROOT / "lib" / name, f"lib/{name}")
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import lib.synthetic as s; "
        "assert '.zip' in s.__file__, s.__file__; "
        "print(len(s.load_chapters()), len(s.load_countries()), s.default_release_path())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(archive)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    n_chapters, n_countries, default = result.stdout.split()
    assert (int(n_chapters), int(n_countries)) == (96, len(synthetic.load_countries()))
    assert Path(default) == tmp_path / "data" / "generated" / "default"


# --- the default release and the CLI -------------------------------------------------------


def test_default_release_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ECX_GENERATED_DIR", raising=False)
    assert synthetic.default_release_path() == PROJECT_ROOT / "data" / "generated" / "default"
    monkeypatch.setenv("ECX_GENERATED_DIR", str(tmp_path))
    assert synthetic.default_release_path() == tmp_path / "default"


def test_ensure_default_release_generates_once_and_follows_the_key(tmp_path: Path) -> None:
    target = tmp_path / "generated" / "default"
    first = synthetic.ensure_default_release(target, size="tiny", seed=3)
    assert first == target and (target / synthetic.KEY_FILE).is_file()
    stamp = (target / "BACI_HS92_Y2020_V202401.csv").stat().st_mtime_ns
    synthetic.ensure_default_release(target, size="tiny", seed=3)
    assert (target / "BACI_HS92_Y2020_V202401.csv").stat().st_mtime_ns == stamp, "reused"
    synthetic.ensure_default_release(target, size="tiny", seed=4)
    assert "seed=4" in (target / synthetic.KEY_FILE).read_text(encoding="utf-8")
    assert "seed: 4" in (target / "SYNTHETIC.md").read_text(encoding="utf-8")
    assert (
        sorted(p.name for p in target.parent.iterdir() if p.name.startswith(".default.tmp")) == []
    )


def test_cli_writes_a_release(tmp_path: Path) -> None:
    from jobs.generate_baci import main

    out = tmp_path / "cli"
    assert main(["--out", str(out), "--size", "tiny", "--years", "2020", "--seed", "7"]) == 0
    assert [p.name for p in flow_files(out)] == ["BACI_HS92_Y2020_V202401.csv"]
    assert main(["--out", str(out), "--years", "1800"]) == 2


@pytest.mark.scale
def test_full_width_year_has_baci_scale(tmp_path: Path) -> None:
    """One year of the full size: 227 countries x ~5,000 products, 8-10 million flows."""
    release = generate_release(tmp_path / "full", "full", years=[2024])
    path = release / "BACI_HS92_Y2024_V202401.csv"
    try:
        with open(path, "rb") as handle:
            blocks = iter(lambda: handle.read(1 << 24), b"")
            n_rows = sum(block.count(b"\n") for block in blocks) - 1
        assert 8_000_000 <= n_rows <= 10_000_000
    finally:
        path.unlink()  # ~380 MB: do not leave it in pytest's kept tmp folders
