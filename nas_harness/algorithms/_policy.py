"""A factorised categorical policy over layer options and Adam, in numpy (for PPO, REINFORCE).

The policy holds one logit vector per layer; an architecture's log-probability is the sum of
the per-layer log-softmax entries, whose gradient is analytic: ``onehot(a) - softmax``.
:class:`PolicyAlgorithm` is the sampling half that PPO and REINFORCE share.
"""

from __future__ import annotations

from bisect import bisect_left
from operator import mul
from typing import Any

import numpy as np

from nas_harness.algorithms._common import EMPTY, BudgetedAlgorithm
from nas_harness.benchmarks.protocol import SearchContext
from nas_harness.benchmarks.space import place_values

_sum = np.add.reduce          # ndarray.sum and .max are these reductions behind a wrapper
_max = np.maximum.reduce


class FactorisedPolicy:
    """``pi(arch) = prod_l softmax(logits[l])[a_l]``; layers with fewer options are masked.

    Masked logits are ``-inf`` so their probability and gradient are exactly zero. ``probs``
    is cached until :meth:`set_logits` or :meth:`changed` says the logits moved.
    """

    def __init__(self, num_options: tuple[int, ...], rng: np.random.Generator,
                 init_std: float = 1e-3) -> None:
        self.sizes = np.asarray(num_options, dtype=np.int64)
        width = int(self.sizes.max())
        self.width = width
        self.valid = np.arange(width)[None, :] < self.sizes[:, None]
        self.logits = np.where(self.valid, init_std * rng.standard_normal(self.valid.shape),
                               -np.inf)
        weights = place_values(self.sizes)
        self.weights = weights
        self._flat_offset = np.arange(len(self.sizes)) * width   # (L,), for bincount
        self._probs: np.ndarray | None = None
        self._cdf: np.ndarray | None = None
        self._logp: np.ndarray | None = None
        self.block = 256
        # look-ahead uniforms (rows of rng.random((block, L))), also as Python lists
        self._ubuf = np.empty((0, len(self.sizes)))
        self._rows: list[list[float]] = []
        self._upos = 0
        # the sampling tables as Python lists, for the one-draw-at-a-time scan
        self._cdf_rows: list[list[float]] | None = None
        self._cdf_last: list[float] = []
        self._top = (self.sizes - 1).tolist()
        self._weight_list = weights.tolist()
        self._offset_list = self._flat_offset.tolist()

    def changed(self) -> None:
        """Forget the cached probabilities (call after updating ``logits`` in place)."""
        self._probs = None
        self._cdf = None
        self._logp = None
        self._cdf_rows = None

    def probs(self) -> np.ndarray:
        """Per-layer softmax of the current logits, shape ``(L, K)`` (zero on masked options)."""
        if self._probs is None:
            # ufunc reductions: what .max()/.sum() call, without their Python wrappers
            e = np.exp(self.logits - _max(self.logits, axis=1, keepdims=True))
            self._probs = e / _sum(e, axis=1, keepdims=True)
        return self._probs

    def _cdf_array(self) -> np.ndarray:
        if self._cdf is None:
            self._cdf = np.cumsum(self.probs(), axis=1)
        return self._cdf

    def _cdf_lists(self) -> tuple[list[list[float]], list[float]]:
        """Per-layer CDF rows and their totals as Python floats (the same values)."""
        if self._cdf_rows is None:
            rows = self._cdf_array().tolist()
            self._cdf_rows = rows
            self._cdf_last = [row[-1] for row in rows]
        return self._cdf_rows, self._cdf_last

    def _look_ahead(self, rng: np.random.Generator, n: int) -> None:
        """Make ``n`` unused uniform rows available, drawing a block from ``rng`` if needed."""
        if self._upos + n > len(self._rows):
            fresh = rng.random((max(self.block, n), len(self.sizes)))
            if self._upos < len(self._rows):
                self._ubuf = np.concatenate([self._ubuf[self._upos:], fresh])
                self._rows = self._rows[self._upos:] + fresh.tolist()
            else:
                self._ubuf, self._rows = fresh, fresh.tolist()
            self._upos = 0

    def sample_positions(self, rng: np.random.Generator, n: int,
                         consume: bool = True) -> np.ndarray:
        """``n`` architectures as option ordinals ``(n, L)``, by inverse CDF per layer.

        The uniforms come from a buffer drawn from ``rng`` in blocks; with ``consume=False``
        they stay in the buffer (see :meth:`consume`), so a caller can look ahead and keep
        only the draws it uses, exactly as if it had drawn one at a time.
        """
        self._look_ahead(rng, n)
        u = self._ubuf[self._upos:self._upos + n]
        if consume:
            self._upos += n
        return self._inverse_cdf(u)

    def _inverse_cdf(self, u: np.ndarray) -> np.ndarray:
        """Option ordinals ``(n, L)`` of uniform rows ``(n, L)``."""
        cdf = self._cdf_array()
        pos = (u[:, :, None] * cdf[:, -1:] > cdf).sum(axis=2)
        return np.minimum(pos, self.sizes - 1, out=pos)

    def consume(self, n: int) -> None:
        """Mark the first ``n`` looked-ahead draws as used."""
        self._upos += n

    def to_index(self, positions: np.ndarray) -> np.ndarray:
        """Architecture indices of option ordinals ``(n, L)``."""
        return positions @ self.weights

    def to_positions(self, indices: np.ndarray) -> np.ndarray:
        """Option ordinals ``(n, L)`` of architecture indices."""
        return (np.asarray(indices, dtype=np.int64)[:, None] // self.weights) % self.sizes

    def _log_softmax(self) -> np.ndarray:
        """Per-layer log-softmax of the current logits (cached until the logits change)."""
        if self._logp is None:
            z = self.logits
            m = _max(z, axis=1, keepdims=True)
            self._logp = (z - (m + np.log(_sum(np.exp(z - m), axis=1, keepdims=True)))).ravel()
        return self._logp

    def flat_positions(self, positions: np.ndarray) -> np.ndarray:
        """Positions ``(n, L)`` as indices into the flattened ``(L, K)`` logits."""
        return positions + self._flat_offset

    def log_prob(self, positions: np.ndarray) -> np.ndarray:
        """``log pi(arch)`` of each row of ``positions`` under the current logits, ``(n,)``."""
        return self._log_softmax()[positions + self._flat_offset].sum(axis=1)

    def _log_prob_flat(self, flat: np.ndarray) -> np.ndarray:
        """:meth:`log_prob` of positions already passed through :meth:`flat_positions`."""
        return _sum(self._log_softmax()[flat], axis=1)

    def weighted_grad(self, positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``sum_i weights[i] * d log pi(arch_i) / d logits``, shape ``(L, K)``.

        ``d log softmax(z)[a] / dz = onehot(a) - softmax(z)``, summed over the batch.
        """
        return self._weighted_grad_flat(positions + self._flat_offset, weights)

    def _weighted_grad_flat(self, flat: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """:meth:`weighted_grad` of positions already passed through :meth:`flat_positions`."""
        counts: np.ndarray
        if len(flat) == 1:  # one architecture: each entry is hit once, as bincount adds it
            counts = np.zeros(self.logits.shape)
            counts.ravel()[flat[0]] += weights[0]
        else:
            counts = np.bincount(flat.ravel(), weights=np.repeat(weights, flat.shape[1]),
                                 minlength=self.logits.size).reshape(self.logits.shape)
        return counts - _sum(weights) * self.probs()


_QUICK_ROWS = 4
"""Rows scanned one at a time before the rest of a look-ahead block is done at once."""


def sample_allowed_positions(policy: FactorisedPolicy, rng: np.random.Generator, n: int,
                             allowed: np.ndarray, unique: bool = False,
                             max_rounds: int = 4) -> np.ndarray:
    """``n`` policy samples restricted to ``allowed`` indices, by rejection.

    Exactly sequential rejection (each rejected draw is re-drawn), computed on blocks of
    looked-ahead draws; with ``unique`` a draw equal to one accepted earlier in the batch is
    rejected too. If after ``max_rounds`` blocks fewer than ``n`` were accepted (the policy
    has collapsed onto rejected architectures), the rest are uniform over the allowed
    indices, so a run never stalls.
    """
    return _sample_allowed(policy, rng, n, allowed, unique, max_rounds)[0]


def _sample_allowed(policy: FactorisedPolicy, rng: np.random.Generator, n: int,
                    allowed: np.ndarray, unique: bool = False,
                    max_rounds: int = 4) -> tuple[np.ndarray, list[int]]:
    """:func:`sample_allowed_positions` and the indices of the samples.

    Each round looks ahead ``max(8 * need, 32)`` uniform rows and stops at the last accepted
    one. Its first rows are scanned one at a time in plain Python (a row's position in layer
    ``l`` is the number of CDF entries below ``u_l * cdf_l[-1]``: ``bisect_left`` on the same
    floats), which is all a batch needs while most draws are accepted; the rest of the block,
    if needed, at once in numpy. Both give the same positions, so the draws, the accepted
    rows and the uniforms consumed never depend on the split.
    """
    got: list[list[int]] = []
    indices: list[int] = []
    taken: set[int] = set()
    cdfs, lasts = policy._cdf_lists()
    top, weights = policy._top, policy._weight_list
    for _ in range(max_rounds):
        need = n - len(got)
        look = max(8 * need, 32)
        policy._look_ahead(rng, look)
        rows = policy._rows
        j, end = policy._upos, policy._upos + look
        accepted = 0
        # a few rows one at a time (small batches: REINFORCE draws one architecture) ...
        quick = min(end, j + need + _QUICK_ROWS) if need <= _QUICK_ROWS else j
        while j < quick and accepted < need:
            pos = list(map(min, map(bisect_left, cdfs, map(mul, rows[j], lasts)), top))
            j += 1
            i = sum(map(mul, pos, weights))
            if allowed[i] and not (unique and i in taken):
                got.append(pos)
                indices.append(i)
                if unique:
                    taken.add(i)
                accepted += 1
        if accepted < need and j < end:            # ... then the rest of the block at once
            block = policy._inverse_cdf(policy._ubuf[j:end])
            block_index = block @ policy.weights
            hits = np.flatnonzero(allowed[block_index]).tolist()
            stop = end
            for k in hits:                          # usually the first hit is the last needed
                i = int(block_index[k])
                if unique and i in taken:
                    continue
                got.append(block[k].tolist())
                indices.append(i)
                if unique:
                    taken.add(i)
                accepted += 1
                if accepted == need:
                    stop = j + k + 1
                    break
            j = stop
        policy._upos = j
        if len(got) >= n:
            break
    have = len(got)
    for _ in range(8 if have < n else 0):       # uniform fallback, by rejection first
        cand = rng.integers(0, len(allowed), size=8 * (n - have))
        for i in cand[allowed[cand]].tolist():
            if have < n and not (unique and i in taken):
                taken.add(i)
                got.append(policy.to_positions(np.array([i]))[0].tolist())
                indices.append(i)
                have += 1
        if have >= n:
            break
    if have < n:
        pool = np.flatnonzero(allowed)
        if taken:
            pool = np.setdiff1d(pool, np.fromiter(taken, dtype=np.int64))
        if len(pool):
            extra = (rng.choice(pool, size=min(n - have, len(pool)), replace=False) if unique
                     else pool[rng.integers(0, len(pool), size=n - have)])
            got.extend(policy.to_positions(extra).tolist())
            indices.extend(extra.tolist())
    positions = np.array(got, dtype=np.int64).reshape(len(got), len(top))
    return positions, indices


class Adam:
    """Adam (Kingma & Ba 2015) for one array, as ``torch.optim.Adam`` with default betas."""

    def __init__(self, shape: tuple[int, ...], lr: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = np.zeros(shape)
        self.v = np.zeros(shape)
        self.t = 0
        self._tmp = np.empty(shape)
        self._tmp2 = np.empty(shape)

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """One descent step along ``-grad``, in place (entries with zero gradient history stay)."""
        self.t += 1
        m, v, tmp, tmp2 = self.m, self.v, self._tmp, self._tmp2
        m *= self.beta1
        m += np.multiply(1 - self.beta1, grad, out=tmp)
        v *= self.beta2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - self.beta2
        v += tmp
        step = self.lr / (1 - self.beta1 ** self.t)
        np.divide(v, 1 - self.beta2 ** self.t, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps
        np.multiply(step, m, out=tmp2)
        tmp2 /= tmp
        params -= tmp2


class EMABaseline:
    """Bias-corrected exponential moving average (NATS-Bench's ``ExponentialMovingAverage``)."""

    def __init__(self, momentum: float) -> None:
        self.momentum = momentum
        self.numerator = 0.0
        self.denominator = 0.0

    def update(self, value: float) -> None:
        """Fold in one value."""
        self.numerator = self.momentum * self.numerator + (1 - self.momentum) * value
        self.denominator = self.momentum * self.denominator + (1 - self.momentum)

    @property
    def value(self) -> float:
        """The current average (0 before any update)."""
        return self.numerator / self.denominator if self.denominator else 0.0


class PolicyAlgorithm(BudgetedAlgorithm):
    """Feasible batches sampled from a :class:`FactorisedPolicy`, for policy-gradient methods.

    One piece of code for what PPO and REINFORCE share: the policy, its Adam optimiser, the
    feasibility mask and ``ask`` (``batch_size`` samples, re-drawn while infeasible or, with
    ``avoid_duplicates``, already evaluated). ``Params`` must declare ``batch_size``,
    ``learning_rate``, ``init_std`` and ``avoid_duplicates``. Subclasses add their baseline
    and write ``tell``: :meth:`_accept`, an update from :attr:`_positions`, then
    :meth:`_exclude_evaluated`.
    """

    def __init__(self, context: SearchContext, rng: np.random.Generator,
                 params: Any | None = None) -> None:
        super().__init__(context, rng, params)
        p = self.params
        self.policy = FactorisedPolicy(context.space.num_options, rng, p.init_std)
        self.optimizer = Adam(self.policy.logits.shape, p.learning_rate)
        self._allowed = context.flops <= context.max_flops
        self._positions = np.empty((0, len(self.policy.sizes)), dtype=np.int64)

    def ask(self, max_batch: int) -> np.ndarray:
        """``batch_size`` feasible samples of the current policy."""
        n = min(self._quota(max_batch), self.params.batch_size)
        if n <= 0:
            return EMPTY
        pos, indices = _sample_allowed(self.policy, self.rng, n, self._allowed,
                                       unique=self.params.avoid_duplicates)
        if len(pos) == 0:
            return EMPTY
        self._positions = pos
        return self._proposed(np.array(indices, dtype=np.int64))

    def _exclude_evaluated(self, indices: np.ndarray) -> None:
        """With ``avoid_duplicates``, never sample ``indices`` again."""
        if self.params.avoid_duplicates:
            self._allowed[indices] = False
