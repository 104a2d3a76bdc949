"""A factorised categorical policy over layer options and Adam, in numpy (for PPO, REINFORCE).

The policy holds one logit vector per layer; an architecture's log-probability is the sum of
the per-layer log-softmax entries, whose gradient is analytic: ``onehot(a) - softmax``.
:class:`PolicyAlgorithm` is the sampling half that PPO and REINFORCE share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algorithms._common import EMPTY, BudgetedAlgorithm
from benchmarks.protocol import SearchContext


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
        weights = np.ones(len(self.sizes), dtype=np.int64)
        for layer in range(len(self.sizes) - 2, -1, -1):
            weights[layer] = weights[layer + 1] * self.sizes[layer + 1]
        self.weights = weights
        self._flat_offset = np.arange(len(self.sizes)) * width   # (L,), for bincount
        self._probs: np.ndarray | None = None
        self._cdf: np.ndarray | None = None
        self.block = 256
        self._ubuf = np.empty((0, len(self.sizes)))
        self._upos = 0

    def changed(self) -> None:
        """Forget the cached probabilities (call after updating ``logits`` in place)."""
        self._probs = None
        self._cdf = None

    def probs(self) -> np.ndarray:
        """Per-layer softmax of the current logits, shape ``(L, K)`` (zero on masked options)."""
        if self._probs is None:
            e = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
            self._probs = e / e.sum(axis=1, keepdims=True)
        return self._probs

    def sample_positions(self, rng: np.random.Generator, n: int,
                         consume: bool = True) -> np.ndarray:
        """``n`` architectures as option ordinals ``(n, L)``, by inverse CDF per layer.

        The uniforms come from a buffer drawn from ``rng`` in blocks; with ``consume=False``
        they stay in the buffer (see :meth:`consume`), so a caller can look ahead and keep
        only the draws it uses, exactly as if it had drawn one at a time.
        """
        if self._upos + n > len(self._ubuf):
            rest = self._ubuf[self._upos:]
            fresh = rng.random((max(self.block, n), len(self.sizes)))
            self._ubuf = np.concatenate([rest, fresh]) if len(rest) else fresh
            self._upos = 0
        u = self._ubuf[self._upos:self._upos + n]
        if consume:
            self._upos += n
        if self._cdf is None:
            self._cdf = np.cumsum(self.probs(), axis=1)
        cdf = self._cdf
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

    def log_prob(self, positions: np.ndarray) -> np.ndarray:
        """``log pi(arch)`` of each row of ``positions`` under the current logits, ``(n,)``."""
        z = self.logits
        m = z.max(axis=1, keepdims=True)
        logp = z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))
        return logp.ravel()[positions + self._flat_offset].sum(axis=1)

    def weighted_grad(self, positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``sum_i weights[i] * d log pi(arch_i) / d logits``, shape ``(L, K)``.

        ``d log softmax(z)[a] / dz = onehot(a) - softmax(z)``, summed over the batch.
        """
        counts = np.bincount((positions + self._flat_offset).ravel(),
                             weights=np.repeat(weights, positions.shape[1]),
                             minlength=self.logits.size).reshape(self.logits.shape)
        return counts - weights.sum() * self.probs()


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
    got: list[np.ndarray] = []
    have = 0
    taken: set[int] = set()
    for _ in range(max_rounds):
        need = n - have
        look = max(8 * need, 32)
        pos = policy.sample_positions(rng, look, consume=False)
        ok = allowed[policy.to_index(pos)]
        if unique:
            accepted = 0
            for j, i in enumerate(policy.to_index(pos).tolist()):
                if ok[j]:
                    if i in taken or accepted >= need:
                        ok[j] = False
                    else:
                        taken.add(i)
                        accepted += 1
        hits = np.flatnonzero(ok)[:need]
        used = int(hits[-1]) + 1 if len(hits) == need else look
        policy.consume(used)
        got.append(pos[hits])
        have += len(hits)
        if have >= n:
            break
    for _ in range(8 if have < n else 0):       # uniform fallback, by rejection first
        cand = rng.integers(0, len(allowed), size=8 * (n - have))
        for i in cand[allowed[cand]].tolist():
            if have < n and not (unique and i in taken):
                taken.add(i)
                got.append(policy.to_positions(np.array([i])))
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
            got.append(policy.to_positions(extra))
    return got[0] if len(got) == 1 else np.concatenate(got)


class Adam:
    """Adam (Kingma & Ba 2015) for one array, as ``torch.optim.Adam`` with default betas."""

    def __init__(self, shape: tuple[int, ...], lr: float, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = np.zeros(shape)
        self.v = np.zeros(shape)
        self.t = 0

    def step(self, params: np.ndarray, grad: np.ndarray) -> None:
        """One descent step along ``-grad``, in place (entries with zero gradient history stay)."""
        self.t += 1
        self.m *= self.beta1
        self.m += (1 - self.beta1) * grad
        self.v *= self.beta2
        self.v += (1 - self.beta2) * (grad * grad)
        step = self.lr / (1 - self.beta1 ** self.t)
        denom = np.sqrt(self.v / (1 - self.beta2 ** self.t))
        denom += self.eps
        params -= step * self.m / denom


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
        pos = sample_allowed_positions(self.policy, self.rng, n, self._allowed,
                                       unique=self.params.avoid_duplicates)
        if len(pos) == 0:
            return EMPTY
        self._positions = pos
        return self._proposed(self.policy.to_index(pos))

    def _exclude_evaluated(self, indices: np.ndarray) -> None:
        """With ``avoid_duplicates``, never sample ``indices`` again."""
        if self.params.avoid_duplicates:
            self._allowed[indices] = False
