"""The product space: proximity, density, complexity outlook (COI) and outlook gain (COG).

Per year, on the active submatrix (countries with d_c > 0, products with u_p > 0), following Stata
``ecomplexity`` (the Atlas reference; ``proxdiscrete.ado``, ``calculate_density.ado``,
``coicog.ado``):

    C_pp'       = sum_c M_cp M_cp'                       (co-occurrence; C_pp = u_p)
    phi_pp'     = C_pp' / max(u_p, u_p') = min(P(p|p'), P(p'|p)),   phi_pp = 0
    density_cp  = sum_p' M_cp' phi_p'p / sum_p' phi_p'p
    COI_c       = sum_p (1 - M_cp) density_cp kp_p
    COG_cp      = (1 - M_cp) sum_p' (1 - M_cp') phi_p'p kp_p' / sum_p'' phi_p'p''

``kp`` is the raw PCI eigenvector of Stata (before normalisation). We take PCI from
``lib.measures.eci`` and re-centre it at its ubiquity-weighted mean: kp = PCI - sum_p u_p PCI_p / sum_p u_p.
WHY this recovers Stata exactly: diversity is the left Perron vector of Mcc, so the ECI
eigenvector satisfies sum_c d_c e_c = 0, hence sum_p u_p kp_p = 0; and Stata's PCI is
(kp - mean(e)) / sd(e). So the re-centred atlas PCI is kp / sd(e): COG comes out "divided by the
sd of ECI" as in Stata, and COI (z-scored afterwards) is unaffected by the scale. Under
``zscore`` normalisation the same rule gives kp / sd(kp), i.e. COG in PCI units.

COI is then z-scored like ECI: ``atlas`` with the sample sd over the C x P long rows (Stata),
``zscore`` with the sample sd over countries. (py-ecomplexity uses the population sd over
countries for both COI and the COG divisor, and diagonal 1: with ``proximity_diagonal = 1`` its
density is ours and its COI and COG are ours times sqrt(CP / (CP - 1)).)

``ProductSpaceConfig.proximity_diagonal`` sets phi_pp inside density and COG: 0 as Stata / the
Atlas (default), 1 as py-ecomplexity and the R package. The proximity table never holds the
diagonal.

A product whose proximity to every other product is 0 (all its exporters export nothing else)
has undefined density (NULL); it adds nothing to COI and COG. Products without a PCI (outside
ECI's connected component, see ``lib.measures.eci``) add nothing to COI and COG and get NULL COG; countries
exporting such products get NULL COI and COG; COI is standardised over the remaining countries.

Blockwise (WHY: one implementation for a year in one task and for a year spread over many):
every formula above is a sum over places for a fixed activity (C) or a function of one place's
row of M and the activity-side data (density, COG, COI before its z-score). So a year is computed
from *blocks of places* (dense 0/1 rows, all active activities as columns):

1. ``cooccurrence(rows)`` per block; the blocks' C are summed (C is exact: integer counts);
2. ``Proximity``: phi once (u = diag C), handed out in column blocks (``Proximity.blocks``);
3. ``activity_side(proximity, u, pci, diagonal)`` once: column totals with the diagonal, kp;
4. ``block_outlook(rows, side)`` per block: density, COG and raw COI of the block's places;
5. ``coi_moments`` per block, combined (``combined_moments``), ``coi_scale``: the z-score.

``density_and_outlook_matrix`` (the in-task path, ``lib.measures.yearly``) runs 1-5 on a single
block holding the whole active matrix; ``lib.execution.distributed.product_space`` runs them on
many blocks in Spark tasks. ``selected_cells`` chooses the density cells written
(``product_space.density_pairs``: all, absent, top_k) for both paths.

Memory (WHY ``Proximity`` exists): phi is P x P, 0.2 GB at HS6 (5,000 products), more than all
of a BACI year's place x activity matrices together. Every use of phi above (column totals,
``rows @ phi``, the proximity pairs) needs only a few of its columns at a time, so a
``Proximity`` made from a single block's 0/1 rows (``Proximity.of_rows``, the in-task path)
never holds C or phi whole: each column block is C's columns ``rows^T rows[:, block]``,
recomputed for each pass (three passes a year), divided by the same
max(u_p, u_p'). The distributed path has C summed over its blocks already
(``Proximity.of_cooccurrence``: phi made in place, its columns handed out as views).

Must not: know of Spark, of years, or of how blocks are formed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from lib.measures.matrix import active_masks, expand, expand_matrix
from lib.tables import spark_schema

ATLAS = "atlas"
ZSCORE = "zscore"
# Proximity rows listed as pairs at a time: bounds a year's pair frames (~40 MB at HS6)
ROW_CHUNK = 128
BLOCK_BYTES = 8 * 1024**2  # one column block of phi (P x width float64), whatever P is
EXACT_FLOAT32 = 2**24  # 0/1 products summed over fewer rows are exact integers in float32

PROXIMITY_SCHEMA = spark_schema("product_proximity")


# --- numpy cores ---------------------------------------------------------------------------

DENSITY_PAIRS = ("all", "absent", "top_k")


def cooccurrence(rows: np.ndarray) -> np.ndarray:
    """A block's share of C = M^T M (activities x activities): sum over its places (rows) of
    M_cp M_cp'. Integer counts in float64: exact, so any split into blocks sums to the same C."""
    rows = np.asarray(rows, dtype=np.float64)
    return rows.T @ rows


def _divide_by_max_ubiquity(block: np.ndarray, u_rows: np.ndarray, u_columns: np.ndarray) -> None:
    """block_pp' /= max(u_p, u_p') in place (p over ``u_rows``, p' over ``u_columns``): the one
    formula of phi from C. Where max(u_p, u_p') = 0 both activities are inactive and C_pp' is
    already 0."""
    denominator = np.maximum(u_rows[:, None], u_columns[None, :])
    np.divide(block, denominator, out=block, where=denominator > 0)


def proximity_from_cooccurrence(C: np.ndarray) -> np.ndarray:
    """phi = C_pp' / max(u_p, u_p') with u = diag(C), diagonal 0, rows / columns of inactive
    activities 0. Divides ``C`` in place and returns it (P x P can be 5,000 x 5,000)."""
    phi = np.asarray(C, dtype=np.float64)
    u = np.diag(phi).copy()
    for start in range(0, u.size, ROW_CHUNK):  # row chunks: no second P x P array
        _divide_by_max_ubiquity(phi[start : start + ROW_CHUNK], u[start : start + ROW_CHUNK], u)
    np.fill_diagonal(phi, 0.0)
    return phi


def proximity_matrix(M: np.ndarray) -> np.ndarray:
    """phi (P x P) of a 0/1 matrix, whole (the report's drawing; the job uses ``Proximity``)."""
    return Proximity.of_rows(M).dense()


class Proximity:
    """phi of a year's activities (diagonal 0 unless a caller asks for another), handed out in
    column blocks of at most ``BLOCK_BYTES`` (see the module docstring). ``ubiquity`` is
    u = diag(C). A block is never to be written into (it may be a view of phi)."""

    def __init__(
        self,
        ubiquity: np.ndarray,
        rows: np.ndarray | None,
        phi: np.ndarray | None,
        held_diagonal: float = 0.0,
    ):
        self.ubiquity = np.asarray(ubiquity, dtype=np.float64)
        self._rows, self._phi = rows, phi
        self._held_diagonal = held_diagonal  # the diagonal phi holds, when held whole

    @classmethod
    def of_rows(cls, rows: np.ndarray) -> Proximity:
        """From one block of 0/1 place rows (all places of the year): C is never held whole.
        WHY float32 below 2^24 places: the products and sums are integers, exact there, and
        the matrix product twice as fast as in float64."""
        rows = np.asarray(rows)
        exact = np.float32 if rows.shape[0] < EXACT_FLOAT32 else np.float64
        rows = rows.astype(exact)
        return cls(rows.sum(axis=0, dtype=np.float64), rows, None)

    @classmethod
    def of_cooccurrence(cls, C: np.ndarray, diagonal: float = 0.0) -> Proximity:
        """From C summed over blocks of places (divided in place: no second P x P array),
        phi_pp = ``diagonal``: a caller that only asks for that diagonal (a product-space task
        with ``proximity_diagonal = 1``) gets views, never a copy of a block."""
        u = np.diag(C).astype(np.float64)
        phi = proximity_from_cooccurrence(C)
        np.fill_diagonal(phi, diagonal)
        return cls(u, None, phi, diagonal)

    @property
    def size(self) -> int:
        return self.ubiquity.size

    def columns(self, start: int, stop: int, diagonal: float = 0.0) -> np.ndarray:
        """phi[:, start:stop] with phi_pp = ``diagonal`` (a view of phi when it is held whole
        with that diagonal; else a new array)."""
        if self._phi is not None:
            block = self._phi[:, start:stop]
            if diagonal == self._held_diagonal:
                return block
            block = block.copy()  # never into phi itself
        else:
            block = (self._rows.T @ self._rows[:, start:stop]).astype(np.float64)
            _divide_by_max_ubiquity(block, self.ubiquity, self.ubiquity[start:stop])
        block[np.arange(start, stop), np.arange(stop - start)] = diagonal
        return block

    def blocks(
        self, width: int | None = None, diagonal: float = 0.0
    ) -> Iterator[tuple[int, np.ndarray]]:
        """(start, ``columns(start, start + width, diagonal)``) over all columns; ``width``
        by default the most columns that fit ``BLOCK_BYTES``."""
        if width is None:
            width = max(1, BLOCK_BYTES // (8 * max(self.size, 1)))
        for start in range(0, self.size, width):
            yield start, self.columns(start, min(start + width, self.size), diagonal)

    def dense(self) -> np.ndarray:
        """All of phi (P x P, diagonal 0): for callers that need it whole (and can hold it)."""
        if self._phi is not None and self._held_diagonal == 0.0:
            return self._phi
        out = np.empty((self.size, self.size))
        for start, block in self.blocks():
            out[:, start : start + block.shape[1]] = block
        return out


def proximity_pair_blocks(
    proximity: Proximity,
    min_proximity: float = 0.0,
    upper_only: bool = True,
    rows: int = ROW_CHUNK,
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Index pairs (a, b) with phi_ab > 0 and phi_ab >= min_proximity, and their values, for
    ``rows`` consecutive values of a at a time (ordered by a, then b). ``upper_only``: each
    pair once (a < b); else both orders (the diagonal is 0, so never listed). Row block a =
    column block a transposed (phi is symmetric)."""
    n = proximity.size
    for start, columns in proximity.blocks(rows):
        block = np.ascontiguousarray(columns.T)
        keep = (block > 0) & (block >= min_proximity)
        if upper_only:  # column index > row index
            keep &= np.arange(n)[None, :] > np.arange(start, start + block.shape[0])[:, None]
        a, b = np.nonzero(keep)
        if a.size:
            yield a + start, b, block[a, b]


def proximity_pairs(
    proximity: Proximity, min_proximity: float = 0.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs (a < b) with phi_ab > 0 and phi_ab >= min_proximity, and their values."""
    blocks = list(proximity_pair_blocks(proximity, min_proximity))
    if not blocks:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    a, b, values = zip(*blocks, strict=True)
    return np.concatenate(a), np.concatenate(b), np.concatenate(values)


@dataclass(frozen=True)
class ActivitySide:
    """What every block of places needs of the year's activities (active ones only).

    ``proximity`` is phi (diagonal 0); ``diagonal`` the phi_pp density and COG use
    (``proximity_diagonal``); ``totals`` the column sums of phi with that diagonal; ``known``
    the activities with a PCI; ``kp`` the re-centred PCI (0 where unknown); ``weight`` =
    kp / totals (0 where an activity has no neighbour)."""

    proximity: Proximity
    diagonal: float
    totals: np.ndarray
    has_neighbours: np.ndarray
    known: np.ndarray
    kp: np.ndarray
    weight: np.ndarray

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(start, columns of phi with ``diagonal`` on the diagonal), block by block."""
        return self.proximity.blocks(diagonal=self.diagonal)


def activity_side(
    proximity: Proximity, ubiquity: np.ndarray, pci: np.ndarray, proximity_diagonal: float = 0.0
) -> ActivitySide:
    """The activity side of a year from its proximity, ubiquity and PCI (NaN where unknown),
    all over the active activities."""
    P = proximity.size
    totals = np.zeros(P)
    for start, columns in proximity.blocks(diagonal=proximity_diagonal):
        totals[start : start + columns.shape[1]] = columns.sum(axis=0)  # = row sums (symmetric)
    has_neighbours = totals > 0
    pci = np.asarray(pci, dtype=np.float64)
    known = np.isfinite(pci)
    u = np.asarray(ubiquity, dtype=np.float64)
    kp = np.zeros(P)
    if known.any():
        centre = (u[known] @ pci[known]) / u[known].sum()
        kp = np.where(known, pci - centre, 0.0)  # re-centred: sum_p u_p kp_p = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(has_neighbours, kp / totals, 0.0)
    return ActivitySide(
        proximity, float(proximity_diagonal), totals, has_neighbours, known, kp, weight
    )


@dataclass(frozen=True)
class BlockOutlook:
    """Density and COG (block places x activities) and raw COI (block places; before the
    z-score), NaN where undefined; ``rated``: the places whose activities all have a PCI."""

    density: np.ndarray
    cog: np.ndarray
    coi_raw: np.ndarray
    rated: np.ndarray


def density_matrix(rows: np.ndarray, phi: np.ndarray, totals: np.ndarray | None = None):
    """density_cp = sum_p' M_cp' phi_p'p / sum_p' phi_p'p of a block of places (0/1 rows)
    for any symmetric relatedness ``phi`` (the proximity with its diagonal; the BiCM-validated
    links), NaN where an activity has no neighbour; ``totals``: phi's column sums if known."""
    rows = np.asarray(rows, dtype=np.float64)
    totals = phi.sum(axis=0) if totals is None else totals
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(totals[None, :] > 0, (rows @ phi) / totals[None, :], np.nan)


def block_outlook(rows: np.ndarray, side: ActivitySide) -> BlockOutlook:
    """Density, COG and raw COI of a block of places (dense 0/1 rows over the active
    activities) from the year's ``activity_side`` (see the module docstring), phi's columns a
    block at a time."""
    rows = np.asarray(rows, dtype=np.float64)
    n, P = rows.shape
    known = side.known
    rated = rows[:, ~known].sum(axis=1) == 0 if known.any() else np.zeros(n, dtype=bool)
    density = np.empty((n, P))
    cog = np.full((n, P), np.nan)
    coi = np.full(n, np.nan)
    missing = 1.0 - rows
    weighted = missing * side.weight[None, :]
    cog_all = np.empty((n, P)) if rated.any() else None
    for start, columns in side.blocks():
        stop = start + columns.shape[1]
        density[:, start:stop] = density_matrix(rows, columns, side.totals[start:stop])
        if cog_all is not None:
            cog_all[:, start:stop] = missing[:, start:stop] * (weighted @ columns)
    if cog_all is not None:
        coi_raw = (np.where(side.has_neighbours[None, :], density, 0.0) * missing) @ side.kp
        cog[np.ix_(rated, known)] = cog_all[np.ix_(rated, known)]
        coi[rated] = coi_raw[rated]
    return BlockOutlook(density, cog, coi, rated)


def coi_moments(values: np.ndarray) -> tuple[int, float, float]:
    """(n, sum, sum of squares about their mean) of a block's finite raw COI values."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not values.size:
        return 0, 0.0, 0.0
    return values.size, float(values.sum()), float(np.sum((values - values.mean()) ** 2))


def combined_moments(
    n: np.ndarray, total: np.ndarray, squares: np.ndarray
) -> tuple[int, float, float]:
    """The ``coi_moments`` of the union of blocks from theirs (Chan et al. 1979: the squares
    about each block's mean plus n_i (mean_i - mean)^2); one block: its own."""
    n, total, squares = (np.asarray(v, dtype=np.float64) for v in (n, total, squares))
    some = n > 0
    n, total, squares = n[some], total[some], squares[some]
    if not n.size:
        return 0, 0.0, 0.0
    if n.size == 1:
        return int(n[0]), float(total[0]), float(squares[0])
    mean = total.sum() / n.sum()
    spread = squares.sum() + np.sum(n * (total / n - mean) ** 2)
    return int(n.sum()), float(total.sum()), float(spread)


def coi_scale(
    n: int, total: float, squares: float, n_products: int, normalization: str
) -> tuple[float, float]:
    """(mean, sd) of the COI z-score from its moments (``coi_moments``): atlas = sample sd
    over the C x P long rows (Stata), zscore = sample sd over places."""
    if n == 0:
        return np.nan, np.nan
    if normalization == ATLAS:
        rows = n * n_products
        sd = np.sqrt(n_products * squares / (rows - 1)) if rows > 1 else np.nan
    else:
        sd = np.sqrt(squares / (n - 1)) if n > 1 else np.nan
    return total / n, sd


def standardised(values: np.ndarray, mean: float, sd: float) -> np.ndarray:
    """(values - mean) / sd, NaN stays NaN (and NaN where sd is 0 or undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (np.asarray(values, dtype=np.float64) - mean) / sd
    return np.where(np.isfinite(out), out, np.nan)


def selected_cells(rows: np.ndarray, density: np.ndarray, mode: str, top_k: int) -> np.ndarray:
    """Which density cells of a block are written (``product_space.density_pairs``): ``all``
    every cell; ``absent`` those with M = 0 (the opportunities); ``top_k`` per place the
    ``top_k`` absent activities of highest density (ties: the earlier activity; undefined
    density never chosen)."""
    if mode == "all":
        return np.ones(density.shape, dtype=bool)
    absent = np.asarray(rows) == 0
    if mode == "absent":
        return absent
    if mode != "top_k":
        raise ValueError(f"density_pairs must be one of {', '.join(DENSITY_PAIRS)}: {mode!r}")
    score = np.where(absent & np.isfinite(density), density, -np.inf)
    k = min(int(top_k), density.shape[1])
    chosen = np.zeros(density.shape, dtype=bool)
    if k > 0 and density.size:
        best = np.argsort(-score, axis=1, kind="stable")[:, :k]
        chosen[np.arange(density.shape[0])[:, None], best] = True
    return chosen & (score > -np.inf)


@dataclass(frozen=True)
class OutlookResult:
    """density and cog (countries x products) and coi (countries); NaN where undefined.
    ``proximity``: phi of the active products (``active_products``, a mask over M's columns),
    diagonal 0, kept for the proximity table (column blocks: never P x P at once)."""

    density: np.ndarray
    cog: np.ndarray
    coi: np.ndarray
    proximity: Proximity
    active_products: np.ndarray


def density_and_outlook_matrix(
    M: np.ndarray,
    pci: np.ndarray,
    proximity_diagonal: float = 0.0,
    normalization: str = ATLAS,
) -> OutlookResult:
    """Density, COG and COI of one 0/1 matrix given the PCI of its products (see module doc):
    the blockwise computation with a single block (the whole active matrix).

    ``pci`` has one entry per column of M; entries of inactive products are ignored.
    """
    if normalization not in (ATLAS, ZSCORE):
        raise ValueError(f"normalization must be '{ATLAS}' or '{ZSCORE}', got {normalization!r}")
    M = np.asarray(M, dtype=np.float64)
    ac, ap = active_masks(M)
    sub = M[np.ix_(ac, ap)]
    if sub.shape[0] == 0:
        n_c, n_p = M.shape
        nan_grid = np.full((n_c, n_p), np.nan)
        none = Proximity.of_rows(np.zeros((0, 0)))
        return OutlookResult(nan_grid, nan_grid.copy(), np.full(n_c, np.nan), none, ap)

    proximity = Proximity.of_rows(sub)
    side = activity_side(
        proximity, sub.sum(axis=0), np.asarray(pci, dtype=np.float64)[ap], proximity_diagonal
    )
    block = block_outlook(sub, side)
    mean, sd = coi_scale(*coi_moments(block.coi_raw), int(side.known.sum()), normalization)
    coi = standardised(block.coi_raw, mean, sd)
    return OutlookResult(
        expand_matrix(block.density, ac, ap),
        expand_matrix(block.cog, ac, ap),
        expand(coi, ac),
        proximity,
        ap,
    )
