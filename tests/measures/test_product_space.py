"""Proximity, density, COI and COG against the R package, Stata and py-ecomplexity.

Tolerances: 1e-12 for proximity (a ratio of integers), 1e-6 absolute against Stata's COI and the
Stata density / COG cells quoted below, and 1e-6 against py-ecomplexity's density / COG / COI
(we reach ~1e-15 everywhere).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from lib.measures import product_space
from lib.measures.eci import eci_pci_matrix
from lib.measures.matrix import active_masks
from lib.measures.product_space import (
    Proximity,
    activity_side,
    block_outlook,
    coi_moments,
    coi_scale,
    combined_moments,
    cooccurrence,
    density_and_outlook_matrix,
    proximity_from_cooccurrence,
    proximity_matrix,
    selected_cells,
    standardised,
)
from lib.measures.year_rows import proximity_blocks
from lib.measures.yearly import YearSettings, year_indicators
from tests.conftest import data_path
from tests.reference_data import (
    CID_DIR,
    R_DIR,
    r_package_exports,
    stata_fixture_exports,
    stata_fixture_trade,
    yearly_core,
)

# Cells of Stata's full fixture (cid-harvard/py-ecomplexity, MIT, tests/fixtures/
# stata_ground_truth.csv at 554cc5dc), whose density and cog columns tests/data does not carry:
# (year, origin, hs92) -> (density, cog), digits verbatim. They pin the Stata conventions
# (diagonal 0, COG divided by ECI's long-row sample sd) that py-ecomplexity does not follow.
STATA_CELLS = {
    (1995, "aut", "1704"): (0.4624999999999999, -0.6248181469470029),
    (1995, "aut", "3917"): (0.6070959264126149, 0.0),
    (1995, "blx", "3917"): (0.442838370565046, 0.5761814670034898),
    (1995, "che", "6810"): (0.4518272425249169, -0.819291252880997),
    (1995, "deu", "9403"): (0.3522975929978118, -0.6411157914844777),
    (1996, "gbr", "2007"): (0.5384615384615384, -0.4037740417285279),
    (1996, "ita", "9403"): (0.4989429175475686, 0.0),
    (1996, "pol", "3917"): (0.1611624834874505, 0.6607440169607551),
    (1996, "svn", "7010"): (0.4642313546423135, 0.4292687282861034),
}


# --- independent, plain implementations (test-only) ----------------------------------------


def plain_proximity_r(M: np.ndarray) -> np.ndarray:
    """The R package's definition: (M'M) / outer(u, u, pmax) -- diagonal 1 there."""
    u = M.sum(axis=0)
    return (M.T @ M) / np.maximum(u[:, None], u[None, :])


def plain_outlook(M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Density, COG, COI with loops, kp from a P x P eig (Stata's formulation)."""
    n_c, n_p = M.shape
    d, u = M.sum(1), M.sum(0)
    values, vectors = np.linalg.eig((M / u / d[:, None]).T @ M)
    kp = vectors[:, np.argsort(-values.real)[1]].real
    kc = (M / d[:, None]) @ kp
    if np.corrcoef(d, kc)[0, 1] < 0:
        kp, kc = -kp, -kc
    phi = np.zeros((n_p, n_p))
    for a in range(n_p):
        for b in range(n_p):
            if a != b:
                phi[a, b] = (M[:, a] * M[:, b]).sum() / max(u[a], u[b])
    density = np.zeros((n_c, n_p))
    cog = np.zeros((n_c, n_p))
    coi = np.zeros(n_c)
    for c in range(n_c):
        for p in range(n_p):
            density[c, p] = sum(M[c, q] * phi[q, p] for q in range(n_p)) / phi[:, p].sum()
            if M[c, p] == 0:
                coi[c] += density[c, p] * kp[p]
                cog[c, p] = sum(
                    (1 - M[c, q]) * phi[q, p] * kp[q] / phi[q].sum() for q in range(n_p)
                )
    sd_eci = np.repeat(kc, n_p).std(ddof=1)
    long_coi = np.repeat(coi, n_p)
    return density, cog / sd_eci, (coi - long_coi.mean()) / long_coi.std(ddof=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_core_matches_plain_loops(seed):
    rng = np.random.default_rng(seed)
    M = (rng.random((8, 11)) < 0.4).astype(float)
    M[M.sum(1) == 0, 0] = 1
    M[0, M.sum(0) == 0] = 1
    density, cog, coi = plain_outlook(M)
    res = density_and_outlook_matrix(M, eci_pci_matrix(M, "atlas").pci, 0.0, "atlas")
    assert np.max(np.abs(res.density - density)) < 1e-12, "density vs loops (atol 1e-12)"
    assert np.max(np.abs(res.cog - cog)) < 1e-9, "COG vs loops + P x P eig (atol 1e-9)"
    assert np.max(np.abs(res.coi - coi)) < 1e-9, "COI vs loops + P x P eig (atol 1e-9)"
    phi = proximity_matrix(M)
    assert np.allclose(phi, phi.T, rtol=0, atol=0) and np.all(np.diag(phi) == 0)


def test_proximity_matches_r_definition():
    """The R package's real trade data through the job's yearly core: the proximity pairs it
    writes equal the R package's definition on the package's own M."""
    exports, codes = r_package_exports()
    ind = year_indicators(2000, exports, YearSettings())
    got = pd.concat(proximity_blocks(ind), ignore_index=True)

    ones = pd.read_csv(data_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    products = np.array(sorted(ones["product"].unique()))
    M = np.zeros((len(codes), len(products)))
    M[ones["country"].map(codes).to_numpy(), np.searchsorted(products, ones["product"])] = 1
    phi = plain_proximity_r(M)
    np.fill_diagonal(phi, 0)  # R stores 1 on the diagonal; our table never lists it
    a, b = np.nonzero(phi)
    expected = pd.Series(phi[a, b], index=pd.MultiIndex.from_arrays([products[a], products[b]]))

    assert (got["year"] == 2000).all()
    assert not (got["product_a"] == got["product_b"]).any(), "no diagonal rows"
    assert len(got) == len(expected), "both orders of every non-zero pair, once each"
    got = got.set_index(["product_a", "product_b"])["proximity"]
    diff = np.max(np.abs(got.loc[expected.index].to_numpy() - expected.to_numpy()))
    assert diff < 1e-12, f"proximity vs R definition: {diff:.3g} (atol 1e-12)"

    threshold = 0.5
    filtered = sum(len(block) for block in proximity_blocks(ind, threshold))
    assert filtered == int((expected >= threshold).sum())


@pytest.fixture(scope="module")
def stata_core():
    exports, codes = stata_fixture_exports()
    return stata_fixture_trade(), codes, exports


def _named(pdf, codes):
    inverse = {i: c for c, i in codes.items()}
    return pdf.assign(origin=pdf["country_code"].map(inverse))


def test_stata_coi_and_cells(stata_core):
    _, codes, exports = stata_core
    core = yearly_core(exports)
    got = _named(core.country, codes)
    ref = pd.read_csv(data_path(*CID_DIR, "stata_ground_truth_country.csv"))
    merged = ref.merge(got, on=["year", "origin"], suffixes=("_stata", ""), validate="1:1")
    assert len(merged) == 20
    d_coi = np.max(np.abs(merged["coi"] - merged["coi_stata"]))
    assert d_coi < 1e-6, f"COI vs Stata: {d_coi:.3g} (atol 1e-6)"

    cells = _named(core.grid, codes).set_index(["year", "origin", "product"])
    assert len(cells) == 2 * 10 * 30, "full country x product grid per year"
    for key, (density, cog) in STATA_CELLS.items():
        assert abs(cells.loc[key, "density"] - density) < 1e-6, f"density {key} vs Stata (1e-6)"
        assert abs(cells.loc[key, "cog"] - cog) < 1e-6, f"cog {key} vs Stata (1e-6)"


def test_density_cog_match_py_ecomplexity(stata_core):
    """py-ecomplexity 0.5.3 runs under pandas 2.3. Its conventions: proximity diagonal 1 and the
    population sd over countries (for ECI, hence the COG divisor, and for COI). With
    proximity_diagonal = 1 our density is its density; our COG and COI times
    sqrt(CP / (CP - 1)) (long-row sample sd -> population sd) are its COG and COI."""
    from ecomplexity import ecomplexity

    trade, codes, exports = stata_core
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = ecomplexity(
            trade,
            {"time": "year", "loc": "origin", "prod": "hs92", "val": "export_val"},
            verbose=False,
            check_logsupermodularity=False,
        )
    core = yearly_core(exports, proximity_diagonal=1.0)
    got = _named(core.grid, codes).rename(columns={"product": "hs92"})
    merged = ref.merge(got, on=["year", "origin", "hs92"], suffixes=("_py", ""), validate="1:1")
    assert len(merged) == 600
    n_c, n_p = 10, 30  # every country and product is active in both years
    scale = np.sqrt(n_c * n_p / (n_c * n_p - 1))
    d_density = np.max(np.abs(merged["density"] - merged["density_py"]))
    d_cog = np.max(np.abs(merged["cog"] * scale - merged["cog_py"]))
    assert d_density < 1e-6, f"density vs py-ecomplexity: {d_density:.3g} (atol 1e-6)"
    assert d_cog < 1e-6, f"COG vs py-ecomplexity: {d_cog:.3g} (atol 1e-6)"
    coi = _named(core.country, codes).merge(
        ref.groupby(["year", "origin"], as_index=False)["coi"].first(),
        on=["year", "origin"],
        suffixes=("", "_py"),
    )
    d_coi = np.max(np.abs(coi["coi"] * scale - coi["coi_py"]))
    assert d_coi < 1e-6, f"COI vs py-ecomplexity: {d_coi:.3g} (atol 1e-6)"


def test_zero_diversity_and_zero_ubiquity():
    rng = np.random.default_rng(9)
    M = (rng.random((7, 12)) < 0.4).astype(float)
    M[M.sum(1) == 0, 0] = 1
    M[0, M.sum(0) == 0] = 1
    # Row 7: zero diversity; column 12: zero ubiquity; country 8's only product (column 13) is
    # nobody else's: an island without PCI.
    big = np.zeros((9, 14))
    big[:7, :12] = M
    big[8, 13] = 1
    res = density_and_outlook_matrix(big, eci_pci_matrix(big).pci)
    main = density_and_outlook_matrix(M, eci_pci_matrix(M).pci)
    assert np.isnan(res.density[7]).all() and np.isnan(res.cog[7]).all(), "zero diversity"
    assert np.isnan(res.density[:, 12]).all(), "zero-ubiquity product: NULL density"
    assert np.isnan(res.coi[7]) and np.isnan(res.coi[8]), "no COI outside the main component"
    assert np.isnan(res.cog[8]).all() and np.isnan(res.cog[:, 13]).all(), "no PCI: NULL cog"
    # The rest equals the year computed without them (atol 1e-12).
    assert np.max(np.abs(res.density[:7, :12] - main.density)) < 1e-12
    assert np.max(np.abs(res.cog[:7, :12] - main.cog)) < 1e-12
    assert np.max(np.abs(res.coi[:7] - main.coi)) < 1e-12
    # The proximity kept for the table never involves the product nobody has.
    assert not res.active_products[12]


def _blockwise(M, pci, size, diagonal, normalization):
    """The kernels composed over blocks of ``size`` places, as the distributed path does."""
    ac, ap = active_masks(M)
    sub = M[np.ix_(ac, ap)]
    starts = range(0, sub.shape[0], size)
    C = sum(cooccurrence(sub[i : i + size]) for i in starts)
    side = activity_side(Proximity.of_cooccurrence(C, diagonal), sub.sum(axis=0), pci[ap], diagonal)
    blocks = [block_outlook(sub[i : i + size], side) for i in starts]
    moments = combined_moments(*zip(*(coi_moments(b.coi_raw) for b in blocks), strict=True))
    mean, sd = coi_scale(*moments, int(side.known.sum()), normalization)
    raw = np.concatenate([b.coi_raw for b in blocks])
    return (
        np.concatenate([b.density for b in blocks]),
        np.concatenate([b.cog for b in blocks]),
        standardised(raw, mean, sd),
        ac,
        ap,
    )


def _r_package_m() -> np.ndarray:
    """The R package's M, plus an inactive row and column."""
    ones = pd.read_csv(data_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    rows = ones["country"].astype("category").cat.codes.to_numpy()
    cols = ones["product"].astype("category").cat.codes.to_numpy()
    M = np.zeros((rows.max() + 2, cols.max() + 2))
    M[rows, cols] = 1
    return M


@pytest.mark.parametrize("width", [1, 7])
@pytest.mark.parametrize("normalization,diagonal", [("atlas", 0.0), ("zscore", 1.0)])
def test_phi_in_column_blocks_equals_phi_whole(monkeypatch, width, normalization, diagonal):
    """The in-task path never holds phi whole (``Proximity.of_rows``: column blocks of
    C recomputed). With blocks of 1 / 7 columns, phi equals the whole matrix made from
    M^T M exactly (a ratio of the same integers), and density, COG and COI equal the
    one-block run within 1e-9 relative (absolute 1e-12 x the largest magnitude: a COG near 0
    is a sum of terms of both signs, whose rounding the block order changes)."""
    M = _r_package_m()
    ac, ap = active_masks(M)
    sub = M[np.ix_(ac, ap)]
    whole = proximity_from_cooccurrence(sub.T @ sub)
    pci = eci_pci_matrix(M, normalization).pci
    ref = density_and_outlook_matrix(M, pci, diagonal, normalization)
    monkeypatch.setattr(product_space, "BLOCK_BYTES", 8 * sub.shape[1] * width)
    assert len(list(Proximity.of_rows(sub).blocks())) == -(-sub.shape[1] // width)
    assert np.array_equal(Proximity.of_rows(sub).dense(), whole)
    # phi made with its diagonal (a distributed product-space task's own) hands out the same
    # columns as phi made with 0 and the diagonal set per block; dense() is diagonal 0.
    held = Proximity.of_cooccurrence(sub.T @ sub, diagonal)
    for (_, mine), (_, set_per_block) in zip(
        held.blocks(diagonal=diagonal),
        Proximity.of_rows(sub).blocks(diagonal=diagonal),
        strict=True,
    ):
        assert np.array_equal(mine, set_per_block)
    assert np.array_equal(held.dense(), whole)
    got = density_and_outlook_matrix(M, pci, diagonal, normalization)
    for what in ("density", "cog", "coi"):
        a, b = getattr(got, what), getattr(ref, what)
        assert np.array_equal(np.isnan(a), np.isnan(b)), what
        scale = np.nanmax(np.abs(b))
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12 * scale, err_msg=what)


@pytest.mark.parametrize("size", [1, 7, 1000])
@pytest.mark.parametrize("normalization,diagonal", [("atlas", 0.0), ("zscore", 1.0)])
def test_blocks_of_places_equal_one_block(size, normalization, diagonal):
    """The R package's M cut into blocks of 1 / 7 / all places: the same density, COG and
    COI as ``density_and_outlook_matrix`` (one block), within 1e-9 relative (absolute
    1e-12 x the largest magnitude where a value is 0 up to rounding)."""
    M = _r_package_m()
    pci = eci_pci_matrix(M, normalization).pci
    pci[3] = np.nan  # an activity without PCI
    ref = density_and_outlook_matrix(M, pci, diagonal, normalization)
    density, cog, coi, ac, ap = _blockwise(M, pci, size, diagonal, normalization)
    for got, want, what in (
        (density, ref.density[np.ix_(ac, ap)], "density"),
        (cog, ref.cog[np.ix_(ac, ap)], "cog"),
        (coi, ref.coi[ac], "coi"),
    ):
        assert np.array_equal(np.isnan(got), np.isnan(want)), what
        ok = np.isfinite(want)
        scale = np.abs(want[ok]).max()
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-9, atol=1e-12 * scale, err_msg=what)
    assert np.isnan(ref.cog[:, 3]).all() and np.isnan(ref.coi[M[:, 3] > 0]).all()


def test_selected_cells_ties_and_undefined():
    rows = np.array([[1, 0, 0, 0, 0], [0, 0, 0, 0, 1]], dtype=float)
    density = np.array([[0.9, 0.5, 0.5, np.nan, 0.1], [0.2, 0.2, 0.7, 0.2, 0.9]])
    top = selected_cells(rows, density, "top_k", 2)
    # place 0: 0.5 twice (a tie: the earlier activities), never the present or undefined cell
    assert top[0].tolist() == [False, True, True, False, False]
    assert top[1].tolist() == [True, False, True, False, False]
    assert selected_cells(rows, density, "absent", 0).tolist() == (rows == 0).tolist()
    assert selected_cells(rows, density, "all", 0).all()
    with pytest.raises(ValueError, match="density_pairs"):
        selected_cells(rows, density, "some", 1)
