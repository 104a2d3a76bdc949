"""Plain reference loops of the built-in algorithms, for the speed script (not the harness).

Each loop is what one would write in a notebook without the harness: the same table, the same
protocol (``budget`` validation-accuracy queries, FLOPs at most ``max_flops``, infeasible
draws re-drawn before any query), the algorithm's default parameters, straightforward numpy
and Python, every random choice from one ``numpy.random.Generator``. They are yardsticks of
how fast the work itself can be done: no ask/tell interface, no oracle, no query log, no
contract checks, no trajectory. They are not the harness's algorithms and do not give the
same architectures (their random streams differ); they do the same kind and amount of work.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Problem:
    """One dataset's columns under the protocol: what every plain loop searches."""

    flops: np.ndarray
    valid_acc: np.ndarray
    max_flops: float
    budget: int
    sizes: tuple[int, ...] = (8, 8, 8, 8, 8)

    @property
    def weights(self) -> np.ndarray:
        """Index weight of each layer's option ordinal (first layer most significant)."""
        w = np.ones(len(self.sizes), dtype=np.int64)
        for layer in range(len(self.sizes) - 2, -1, -1):
            w[layer] = w[layer + 1] * self.sizes[layer + 1]
        return w


Result = tuple[list[int], list[float]]
"""The queried architecture indices and their validation accuracies, in order."""


def plain_random(p: Problem, rng: np.random.Generator) -> Result:
    """Uniform feasible architectures without replacement, all drawn at once."""
    feasible = np.flatnonzero(p.flops <= p.max_flops)
    idx = rng.choice(feasible, size=min(p.budget, len(feasible)), replace=False)
    return idx.tolist(), p.valid_acc[idx].tolist()


def plain_evolution(p: Problem, rng: np.random.Generator, population: int = 10,
                    tournament: int = 3, mutation: str = "different") -> Result:
    """Aging evolution: tournament (with replacement), mutate one layer, drop the oldest."""
    ok = (p.flops <= p.max_flops).tolist()
    acc = p.valid_acc.tolist()
    feasible = np.flatnonzero(p.flops <= p.max_flops)
    weights, sizes = p.weights.tolist(), list(p.sizes)
    pop: deque[tuple[float, int]] = deque()
    out_i: list[int] = []
    out_a: list[float] = []
    for i in feasible[rng.integers(0, len(feasible), size=population)].tolist():
        pop.append((acc[i], i))
        out_i.append(i)
        out_a.append(acc[i])
    while len(out_i) < p.budget:
        picks = rng.integers(0, population, size=tournament)
        parent = max((pop[k] for k in picks), key=lambda m: m[0])[1]
        child = -1
        for _ in range(100):                 # re-draw infeasible mutations
            layer = int(rng.integers(len(sizes)))
            current = parent // weights[layer] % sizes[layer]
            if mutation == "resample":       # any option, the parent's own included
                option = int(rng.integers(sizes[layer]))
            else:
                option = int(rng.integers(sizes[layer] - 1))
                option += option >= current
            child = parent + (option - current) * weights[layer]
            if ok[child]:
                break
        else:
            child = int(feasible[rng.integers(len(feasible))])
        pop.append((acc[child], child))
        pop.popleft()
        out_i.append(child)
        out_a.append(acc[child])
    return out_i, out_a


class _PlainPolicy:
    """Softmax logits per layer and Adam on them, written out as one would in a notebook."""

    def __init__(self, p: Problem, rng: np.random.Generator, lr: float,
                 init_std: float = 1e-3) -> None:
        self.rows = np.arange(len(p.sizes))
        self.weights = p.weights
        self.logits = init_std * rng.standard_normal((len(p.sizes), max(p.sizes)))
        self.m = np.zeros_like(self.logits)
        self.v = np.zeros_like(self.logits)
        self.t = 0
        self.lr = lr

    def probs(self) -> np.ndarray:
        e = np.exp(self.logits - self.logits.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def draw(self, rng: np.random.Generator, cdf: np.ndarray) -> tuple[np.ndarray, int]:
        a = np.minimum((rng.random((len(cdf), 1)) * cdf[:, -1:] > cdf).sum(axis=1),
                       cdf.shape[1] - 1)
        return a, int(a @ self.weights)

    def log_softmax(self) -> np.ndarray:
        z = self.logits
        m = z.max(axis=1, keepdims=True)
        return z - (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))

    def ascend(self, grad: np.ndarray) -> None:
        """One Adam step up ``grad``."""
        self.t += 1
        self.m = 0.9 * self.m - 0.1 * grad
        self.v = 0.999 * self.v + 0.001 * grad * grad
        self.logits -= (self.lr / (1 - 0.9 ** self.t)) * self.m / (
            np.sqrt(self.v / (1 - 0.999 ** self.t)) + 1e-8)


def plain_reinforce(p: Problem, rng: np.random.Generator, lr: float = 0.01,
                    momentum: float = 0.9, avoid_duplicates: bool = False) -> Result:
    """REINFORCE, one architecture per update, EMA baseline, Adam."""
    feasible = p.flops <= p.max_flops
    policy = _PlainPolicy(p, rng, lr)
    num = den = 0.0
    out_i: list[int] = []
    out_a: list[float] = []
    for _ in range(p.budget):
        probs = policy.probs()
        cdf = probs.cumsum(axis=1)
        a, i = policy.draw(rng, cdf)
        for _ in range(1000):
            if feasible[i]:
                break
            a, i = policy.draw(rng, cdf)
        else:                                # collapsed onto rejected draws: uniform
            i = int(rng.choice(np.flatnonzero(feasible)))
            a = i // policy.weights % np.asarray(p.sizes)
        if avoid_duplicates:
            feasible[i] = False
        reward = float(p.valid_acc[i])
        out_i.append(i)
        out_a.append(reward)
        num = momentum * num + (1 - momentum) * reward
        den = momentum * den + (1 - momentum)
        advantage = reward - num / den
        grad = -advantage * probs
        grad[policy.rows, a] += advantage
        policy.ascend(grad)
    return out_i, out_a


def plain_ppo(p: Problem, rng: np.random.Generator, batch: int = 10, epochs: int = 4,
              clip: float = 0.2, lr: float = 0.1, momentum: float = 0.9,
              normalize: bool = True, avoid_duplicates: bool = True) -> Result:
    """PPO with the clipped surrogate, batches of distinct (unseen) architectures."""
    allowed = p.flops <= p.max_flops
    feasible = allowed.copy()
    policy = _PlainPolicy(p, rng, lr)
    num = den = 0.0
    out_i: list[int] = []
    out_a: list[float] = []
    while len(out_i) < p.budget:
        n = min(batch, p.budget - len(out_i))
        probs = policy.probs()
        cdf = probs.cumsum(axis=1)
        actions: list[np.ndarray] = []
        chosen: list[int] = []
        for _ in range(100 * n):
            a, i = policy.draw(rng, cdf)
            if allowed[i] and i not in chosen:
                actions.append(a)
                chosen.append(i)
                if len(chosen) == n:
                    break
        while len(chosen) < n:               # collapsed policy: uniform over the rest
            i = int(rng.choice(np.flatnonzero(allowed)))
            if i not in chosen:
                actions.append(i // policy.weights % np.asarray(p.sizes))
                chosen.append(i)
        acts = np.array(actions)
        acc = p.valid_acc[chosen]
        out_i += chosen
        out_a += acc.tolist()
        adv = acc - (num / den if den else acc.mean())
        for reward in acc.tolist():
            num = momentum * num + (1 - momentum) * reward
            den = momentum * den + (1 - momentum)
        if normalize and n > 1:
            adv = adv / (adv.std() + 1e-8)
        old = policy.log_softmax()[policy.rows, acts].sum(axis=1)
        for _ in range(epochs):
            ratio = np.exp(policy.log_softmax()[policy.rows, acts].sum(axis=1) - old)
            clipped = ((adv > 0) & (ratio > 1 + clip)) | ((adv < 0) & (ratio < 1 - clip))
            w = np.where(clipped, 0.0, adv * ratio) / n
            if not w.any():
                break
            grad = -w.sum() * policy.probs()
            np.add.at(grad, (np.broadcast_to(policy.rows, acts.shape), acts),
                      np.broadcast_to(w[:, None], acts.shape))
            policy.ascend(grad)
        if avoid_duplicates:
            allowed[chosen] = False
        if not allowed.any():
            allowed = feasible.copy()
    return out_i, out_a


def plain_layernas(p: Problem, rng: np.random.Generator, buckets: int = 5,
                   top_k: int = 3, bucketing: str = "log", infeasible: str = "stand-in",
                   passes: int = 0) -> Result:
    """LayerNAS, forward order, unsearched layers at their largest option.

    Layer by layer: every option of the layer for each kept candidate, skipped when no
    completion of the later layers fits, evaluated as built or through a feasible stand-in
    (later layers lowered together); keep the best ``top_k`` per FLOPs bucket (linear or
    log). Passes repeat from the best architecture found until ``passes`` (0: the budget)
    or a pass finds nothing new.
    """
    del rng  # deterministic given the accuracies
    sizes, weights = list(p.sizes), p.weights.tolist()
    cube = p.flops.reshape(p.sizes)
    lower = [np.broadcast_to(cube.min(axis=tuple(range(layer + 1, len(sizes))), keepdims=True),
                             p.sizes).ravel().tolist() if layer + 1 < len(sizes)
             else p.flops.tolist() for layer in range(len(sizes))]
    flops, acc = p.flops.tolist(), p.valid_acc.tolist()
    memo: dict[int, float] = {}
    out_i: list[int] = []
    out_a: list[float] = []
    base = [s - 1 for s in sizes]
    while len(out_i) < p.budget:
        start = len(out_i)
        parents = [sum(b * w for b, w in zip(base, weights, strict=True))]
        for layer in range(len(sizes)):
            children: dict[int, int] = {}
            for parent in parents:
                zeroed = parent - (parent // weights[layer] % sizes[layer]) * weights[layer]
                for option in range(sizes[layer]):
                    child = zeroed + option * weights[layer]
                    if child in children or lower[layer][child] > p.max_flops:
                        continue
                    if infeasible != "stand-in":
                        children[child] = child
                        continue
                    head = child - child % weights[layer]      # later layers zeroed
                    for q in range(max(sizes) - 1, -1, -1):     # the stand-in
                        stand = head + sum(min(base[f], q) * weights[f]
                                           for f in range(layer + 1, len(sizes)))
                        if flops[stand] <= p.max_flops:
                            children[child] = stand
                            break
            for stand in children.values():
                if stand not in memo and len(out_i) < p.budget:
                    memo[stand] = acc[stand]
                    out_i.append(stand)
                    out_a.append(acc[stand])
            scored = [(memo[s], c, s) for c, s in children.items() if s in memo]
            if not scored or len(out_i) >= p.budget:
                break
            logf = np.array([flops[s] for _, _, s in scored])
            if bucketing == "log":
                logf = np.log(logf)
            span = logf.max() - logf.min()
            bucket = (np.minimum(((logf - logf.min()) / span * buckets).astype(int), buckets - 1)
                      if span > 0 else np.zeros(len(scored), dtype=int))
            kept: dict[int, list[tuple[float, int]]] = {}
            for (score, child, _), b in zip(scored, bucket.tolist(), strict=True):
                kept.setdefault(b, []).append((score, child))
            parents = [c for group in kept.values()
                       for _, c in sorted(group, key=lambda x: -x[0])[:top_k]]
        passes -= 1
        if len(out_i) == start or passes == 0:
            break
        best = max(((a, i) for i, a in memo.items() if flops[i] <= p.max_flops),
                   default=(0.0, parents[0] if parents else 0))[1]
        base = [best // w % s for w, s in zip(weights, sizes, strict=True)]
    return out_i, out_a


PLAIN_LOOPS: dict[str, Callable[..., Result]] = {
    "random": plain_random,
    "evolution": plain_evolution,
    "reinforce": plain_reinforce,
    "ppo": plain_ppo,
    "layernas": plain_layernas,
}
"""The plain loop of each built-in algorithm family, by registry name."""

# harness parameter -> plain-loop keyword, per family (the plain loops follow the defaults)
_KEYWORDS: dict[str, dict[str, str]] = {
    "random": {},
    "evolution": {"population_size": "population", "tournament_size": "tournament",
                  "mutation": "mutation"},
    "reinforce": {"learning_rate": "lr", "ema_momentum": "momentum",
                  "avoid_duplicates": "avoid_duplicates"},
    "ppo": {"batch_size": "batch", "epochs": "epochs", "clip": "clip", "learning_rate": "lr",
            "baseline_momentum": "momentum", "normalize_advantage": "normalize",
            "avoid_duplicates": "avoid_duplicates"},
    "layernas": {"num_buckets": "buckets", "top_k": "top_k", "bucketing": "bucketing",
                 "infeasible": "infeasible", "passes": "passes"},
}


def plain_loop(family: str, params: Any) -> Callable[[Problem, np.random.Generator], Result]:
    """The plain loop of ``family`` with the harness's parameter values (``params``)."""
    kwargs = {kw: getattr(params, name) for name, kw in _KEYWORDS[family].items()
              if hasattr(params, name)}
    return partial(PLAIN_LOOPS[family], **kwargs)
