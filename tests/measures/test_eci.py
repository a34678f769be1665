"""ECI / PCI (eigenvector method): Stata ground truth, an independent implementation, zero cases.

Tolerances: 1e-6 absolute against the Stata fixture (printed to ~16 digits; we reach ~1e-14);
1e-9 against the independent P x P implementation below and the derived R values; exact-ish
(1e-12) where the same numbers must come out of a different layout.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.measures.eci import eci_pci_matrix
from lib.measures.matrix import year_matrix
from tests.conftest import data_path
from tests.reference_data import CID_DIR, R_DIR, stata_fixture_exports, yearly_core


def stata_fixture_core():
    """Trade sample -> exports (origin mapped to ints) -> the job's yearly core (M: RCA >= 1)."""
    exports, codes = stata_fixture_exports()
    return yearly_core(exports, normalization="atlas"), codes


def stata_style_eci(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kc0 = M.sum(axis=1)
    kp0 = M.sum(axis=0)
    m_pp = (M / kp0[None, :] / kc0[:, None]).T @ M
    values, vectors = np.linalg.eig(m_pp)
    second = np.argsort(-values.real)[1]
    kp = vectors[:, second].real
    kc = (M / kc0[:, None]) @ kp
    if np.corrcoef(kc0, kc)[0, 1] < 0:
        kp, kc = -kp, -kc
    long_rows = np.repeat(kc, M.shape[1])
    mean, sd = long_rows.mean(), long_rows.std(ddof=1)
    return (kc - mean) / sd, (kp - mean) / sd


@pytest.mark.parametrize("shape", [(15, 25), (40, 12)], ids=["wide", "tall"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_core_matches_pxp_eigen_implementation(seed, shape):
    """Wide years solve the place side, tall ones (more places than activities) the activity
    side: both must equal the reference's dense non-symmetric P x P ``eig``."""
    rng = np.random.default_rng(seed)
    M = (rng.random(shape) < 0.3).astype(float)
    M = M[M.sum(1) > 0][:, M[M.sum(1) > 0].sum(0) > 0]
    eigenvalues = np.sort(np.linalg.eigvals((M / M.sum(0) / M.sum(1)[:, None]).T @ M).real)
    assert eigenvalues[-2] - eigenvalues[-3] > 1e-3, "test matrix needs a simple lambda2"
    res = eci_pci_matrix(M, "atlas")
    eci, pci = stata_style_eci(M)
    assert np.max(np.abs(res.eci - eci)) < 1e-9, "ECI vs P x P eig (atol 1e-9)"
    assert np.max(np.abs(res.pci - pci)) < 1e-9, "PCI vs P x P eig (atol 1e-9)"
    # atlas: ECI is exactly the mean PCI of the country's products (atol 1e-12)
    assert np.max(np.abs(res.mean_product_complexity - res.eci)) < 1e-12


def test_zscore_matches_r_package_derived_eigenvalues():
    """Secondary reference: derived_*.csv (2nd eigenvector, z-score with sample sd)."""
    ones = pd.read_csv(data_path(*R_DIR, "package_output_balassa_index_ones.csv"), dtype=str)
    countries = sorted(ones["country"].unique())
    ones["country_code"] = ones["country"].map({c: i for i, c in enumerate(countries)})
    ones["mcp"] = 1
    ym = year_matrix(ones)
    res = eci_pci_matrix(ym.M, "zscore")
    eci_ref = pd.read_csv(data_path(*R_DIR, "derived_eci_country.csv")).set_index("country")
    pci_ref = pd.read_csv(
        data_path(*R_DIR, "derived_pci_product.csv"), dtype={"product": str}
    ).set_index("product")
    d_eci = np.max(np.abs(res.eci - eci_ref.loc[countries, "eci_eigen"].to_numpy()))
    d_pci = np.max(np.abs(res.pci - pci_ref.loc[list(ym.products), "pci_eigen"].to_numpy()))
    assert d_eci < 1e-9 and d_pci < 1e-9, f"zscore vs R derived: {d_eci:.2g}, {d_pci:.2g} (1e-9)"
    assert abs(res.eci.mean()) < 1e-12 and abs(res.eci.std(ddof=1) - 1) < 1e-12


def test_largest_component_only():
    # Two components: countries 0-2 / products 0-2 (main) and country 3 / product 3 (island).
    M = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    res = eci_pci_matrix(M)
    main = eci_pci_matrix(M[:3, :3])
    assert np.isnan(res.eci[3]) and np.isnan(res.pci[3])
    assert np.max(np.abs(res.eci[:3] - main.eci)) < 1e-12  # atol 1e-12: same submatrix


def test_degenerate_years_are_null():
    assert np.isnan(eci_pci_matrix(np.ones((1, 3))).eci).all()  # one country
    assert np.isnan(eci_pci_matrix(np.ones((4, 3))).eci).all()  # identical baskets: lambda2 = 0
    assert np.isnan(eci_pci_matrix(np.zeros((3, 3))).pci).all()


def test_stata_ground_truth():
    core, codes = stata_fixture_core()
    inverse = {i: c for c, i in codes.items()}

    got_c = core.country.copy()
    got_c["origin"] = got_c["country_code"].map(inverse)
    ref_c = pd.read_csv(data_path(*CID_DIR, "stata_ground_truth_country.csv"))
    merged = ref_c.merge(got_c, on=["year", "origin"], suffixes=("_stata", ""), validate="1:1")
    assert len(merged) == len(ref_c) == 20
    d_eci = np.max(np.abs(merged["eci"] - merged["eci_stata"]))
    assert d_eci < 1e-6, f"ECI vs Stata: {d_eci:.3g} (atol 1e-6)"
    # atlas: mean PCI of the country's products = ECI (atol 1e-12)
    assert np.max(np.abs(merged["mean_product_complexity"] - merged["eci"])) < 1e-12
    top = merged.sort_values(["year", "eci"], ascending=[True, False]).groupby("year").head(1)
    assert (top["eci_rank"] == 1).all()

    got_p = core.product.rename(columns={"product": "hs92"})
    ref_p = pd.read_csv(data_path(*CID_DIR, "stata_ground_truth_product.csv"), dtype={"hs92": str})
    merged_p = ref_p.merge(got_p, on=["year", "hs92"], suffixes=("_stata", ""), validate="1:1")
    assert len(merged_p) == len(ref_p) == 60
    d_pci = np.max(np.abs(merged_p["pci"] - merged_p["pci_stata"]))
    assert d_pci < 1e-6, f"PCI vs Stata: {d_pci:.3g} (atol 1e-6)"

    # Diversity / ubiquity of our M equal Stata's (exact).
    check = ref_c.merge(merged[["year", "origin", "diversification"]], on=["year", "origin"])
    assert (check["diversity"] == check["diversification"]).all()


def test_zero_diversity_and_zero_ubiquity():
    rng = np.random.default_rng(4)
    M = (rng.random((9, 14)) < 0.35).astype(float)
    M[M.sum(1) == 0, 0] = 1
    M[0, M.sum(0) == 0] = 1
    # Row 9: zero diversity; column 14: zero ubiquity; an island: country 10's only product
    # (column 15) is nobody else's (a second graph component).
    big = np.zeros((11, 16))
    big[:9, :14] = M
    big[10, 15] = 1
    for normalization in ("atlas", "zscore"):
        res = eci_pci_matrix(big, normalization)
        main = eci_pci_matrix(M, normalization)
        assert np.isnan(res.eci[9]) and np.isnan(res.mean_product_complexity[9])
        assert np.isnan(res.pci[14]), "zero-ubiquity product: NULL pci"
        assert np.isnan(res.eci[10]) and np.isnan(res.pci[15]), "outside the main component"
        # The rest equals the year computed without them (atol 1e-12).
        assert np.max(np.abs(res.eci[:9] - main.eci)) < 1e-12
        assert np.max(np.abs(res.pci[:14] - main.pci)) < 1e-12
