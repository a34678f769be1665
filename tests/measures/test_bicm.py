"""The BiCM and its validated projection against ``bicm`` 3.4.0 (a test dependency).

On the R package's M (226 countries x 785 SITC products, real trade 1998-2000) and a small
matrix with three communities: the probabilities p = x y / (1 + x y) within 1e-7 and the
products x_c y_p (the fitnesses are defined up to x c, y / c) within 1e-7 relative (bicm
stops its Newton at tol 1e-8; we solve the degrees to 1e-10), the p-values of every tested
pair within 1e-6 relative, and the validated links (FDR and Bonferroni) identical.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from lib.measures.bicm import (
    BONFERRONI,
    FDR,
    bicm_fit,
    validated_projection,
    validation_threshold,
)
from tests.reference_data import r_package_bicm


def small_matrix() -> np.ndarray:
    """60 x 45, three groups of countries each exporting mostly its own 15 products."""
    rng = np.random.default_rng(11)
    own = (np.arange(60)[:, None] // 20) == (np.arange(45)[None, :] // 15)
    M = (rng.random((60, 45)) < np.where(own, 0.8, 0.05)).astype(float)
    M[M.sum(1) == 0, 0] = 1
    M[1, M.sum(0) == 0] = 1
    assert M.sum(0).min() > 0 and M.sum(0).max() < 60 and M.sum(1).max() < 45
    return M


def bicm_reference(M: np.ndarray, alpha: float):
    """bicm's fit and its column projection (Poisson p-values, FDR), one process."""
    from bicm import BipartiteGraph

    graph = BipartiteGraph(biadjacency=M.astype(int))
    with contextlib.redirect_stdout(io.StringIO()):
        graph.solve_tool(print_error=False)
        graph.compute_projection(
            rows=False, alpha=alpha, threads_num=1, progress_bar=False, validation_method=FDR
        )
    return graph


def validated_pairs(projection) -> set[tuple[int, int]]:
    a, b = projection.a[projection.link], projection.b[projection.link]
    return set(zip(a.tolist(), b.tolist(), strict=True))


def links(adjacency: dict) -> set[tuple[int, int]]:
    return {(a, b) for a, neighbours in adjacency.items() for b in neighbours}


@pytest.mark.parametrize("name", ["r_package", "small"])
def test_projection_equals_bicm(name):
    alpha = 0.05
    if name == "r_package":
        frame, graph = r_package_bicm()
        M = frame.to_numpy(dtype=float)
    else:
        M = small_matrix()
        graph = bicm_reference(M, alpha)
    fit = bicm_fit(M)
    assert fit.error < 1e-9

    p_diff = np.max(np.abs(fit.p - graph.get_bicm_matrix()))
    assert p_diff < 1e-7, f"BiCM probabilities vs bicm: {p_diff:.3g}"
    xy = np.outer(fit.x, fit.y) / np.outer(graph.x, graph.y)
    assert np.max(np.abs(xy - 1)) < 1e-7, "x_c y_p vs bicm's (relative)"

    fdr = validated_projection(M, alpha, FDR, fit)
    theirs = np.array([graph.cols_pvals[a][b] for a, b in zip(fdr.a, fdr.b, strict=True)])
    assert sum(len(v) for v in graph.cols_pvals.values()) == fdr.a.size, "same pairs tested"
    rel = np.max(np.abs(fdr.p_value - theirs) / np.maximum(theirs, 1e-300))
    assert rel < 1e-6, f"p-values vs bicm: {rel:.3g} (relative)"

    ours = validated_pairs(fdr)
    expected = links(graph.projected_cols_adj_list)
    assert expected, "the reference validates some links"
    assert ours == expected, "FDR links vs bicm"

    bonferroni = validated_projection(M, alpha, BONFERRONI, fit)
    # bicm's public column projection always validates by FDR; its validator on the same
    # p-values gives the Bonferroni set.
    expected = links(graph._projection_from_pvals(alpha=alpha, validation_method=BONFERRONI))
    ours = validated_pairs(bonferroni)
    assert ours == expected and len(ours) <= int(fdr.link.sum()), "Bonferroni links vs bicm"

    B = fdr.adjacency()
    assert (B == B.T).all() and not B.diagonal().any() and B.sum() == 2 * fdr.link.sum()


def test_fixed_rows_and_columns():
    """Empty and full rows / columns are fixed (p 0 or 1), the rest keeps its degrees."""
    M = small_matrix()
    M = np.vstack([M, np.ones(M.shape[1]), np.zeros(M.shape[1])])
    M = np.hstack([M, np.zeros((M.shape[0], 1))])
    fit = bicm_fit(M)
    assert np.isinf(fit.x[-2]) and fit.x[-1] == 0 and fit.y[-1] == 0
    assert (fit.p[-2, :-1] == 1).all() and (fit.p[-1] == 0).all() and (fit.p[:, -1] == 0).all()
    assert np.max(np.abs(fit.p.sum(axis=1) - M.sum(axis=1))) < 1e-9
    assert np.max(np.abs(fit.p.sum(axis=0) - M.sum(axis=0))) < 1e-9


def test_validation_threshold_is_benjamini_hochberg():
    """FDR: the largest i with p_(i) <= i alpha / T; none validated: alpha / T."""
    p = np.array([0.001, 0.035, 0.011, 0.5, 0.02])
    assert validation_threshold(p, 0.05, 5, FDR) == pytest.approx(4 * 0.01)
    assert validation_threshold(p, 0.05, 5, BONFERRONI) == pytest.approx(0.01)
    assert validation_threshold(np.array([0.9]), 0.05, 5, FDR) == pytest.approx(0.01)
    with pytest.raises(ValueError):
        validation_threshold(p, 0.05, 5, "global")
