"""Bradley-Terry preferences: probabilities, simulated reviewers, maximum-likelihood rewards.

The model (Bradley and Terry, 1952; Eq. 1 of the DPO paper, https://arxiv.org/abs/2305.18290):
a reviewer shown replies a and b prefers a with probability

    P(a > b) = exp(r_a) / (exp(r_a) + exp(r_b)) = sigma(r_a - r_b).

Only reward *differences* enter, so rewards are identifiable only up to an additive constant:
`fit_rewards` fixes that gauge by returning rewards with mean zero.

A comparison is stored as a row (winner, loser) of item indices; a batch is an int array of
shape (n, 2). Seen this way a reward model is a binary classifier of comparisons: its logit for
"the first item wins" is r_first - r_second, and its training loss is binary cross-entropy.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit


def preference_prob(r_a, r_b):
    """P(a beats b) = sigma(r_a - r_b), elementwise (floats, arrays or torch tensors)."""
    diff = r_a - r_b
    if hasattr(diff, "sigmoid"):  # torch tensor: stay in torch (keeps autograd)
        return diff.sigmoid()
    return expit(diff)


def comparison_logits(rewards: np.ndarray, comparisons: np.ndarray) -> np.ndarray:
    """The classifier's logit r_winner - r_loser for each comparison, shape (n,)."""
    rewards = np.asarray(rewards, dtype=float)
    comparisons = np.asarray(comparisons)
    return rewards[comparisons[:, 0]] - rewards[comparisons[:, 1]]


def nll(rewards: np.ndarray, comparisons: np.ndarray) -> float:
    """Mean negative log-likelihood -mean log sigma(r_winner - r_loser) of the comparisons.

    This is the binary cross-entropy of the classifier "first item wins" with every label 1.
    """
    return float(-np.mean(log_expit(comparison_logits(rewards, comparisons))))


def nll_grad(rewards: np.ndarray, comparisons: np.ndarray) -> np.ndarray:
    """Gradient of `nll` with respect to the rewards, shape (n_items,)."""
    rewards = np.asarray(rewards, dtype=float)
    comparisons = np.asarray(comparisons)
    # d/dr_w [-log sigma(r_w - r_l)] = -sigma(r_l - r_w); the loser gets the opposite sign.
    push = expit(-comparison_logits(rewards, comparisons))
    grad = np.zeros_like(rewards)
    np.add.at(grad, comparisons[:, 0], -push)
    np.add.at(grad, comparisons[:, 1], push)
    return grad / len(comparisons)


def simulate_comparisons(rewards, n: int, temperature: float = 1.0, seed: int = 0,
                         pair_probs: np.ndarray | None = None) -> np.ndarray:
    """Simulated reviewers: n comparisons between distinct items, shape (n, 2) = (winner, loser).

    Each comparison shows two different items (uniformly at random, or drawn independently from
    `pair_probs` and redrawn on a tie) and the reviewer picks by Bradley-Terry with rewards /
    temperature: P(a > b) = sigma((r_a - r_b) / temperature). temperature is the noise knob:
    large = reviewers close to coin flips, 0 = they always pick the higher reward.
    """
    rewards = np.asarray(rewards, dtype=float)
    if temperature < 0 or np.isnan(temperature):
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    k = len(rewards)
    if k < 2:
        raise ValueError("need at least two items to compare")
    rng = np.random.default_rng(seed)
    p = None if pair_probs is None else np.asarray(pair_probs, dtype=float) / np.sum(pair_probs)
    if p is not None and np.count_nonzero(p) < 2:
        raise ValueError("pair_probs must give at least two items a positive probability")
    a = rng.choice(k, size=n, p=p)
    b = rng.choice(k, size=n, p=p)
    while np.any(same := a == b):  # a reviewer never compares a reply with itself
        b[same] = rng.choice(k, size=int(same.sum()), p=p)
    gap = rewards[a] - rewards[b]
    if temperature == 0:
        a_wins = np.where(gap == 0, rng.random(n) < 0.5, gap > 0)
    else:
        a_wins = rng.random(n) < expit(gap / temperature)
    return np.stack([np.where(a_wins, a, b), np.where(a_wins, b, a)], axis=1)


def win_counts(comparisons: np.ndarray, n_items: int) -> np.ndarray:
    """W[i, j] = how often item i beat item j, shape (n_items, n_items)."""
    wins = np.zeros((n_items, n_items), dtype=int)
    np.add.at(wins, (comparisons[:, 0], comparisons[:, 1]), 1)
    return wins


def _check_finite_maximum(wins: np.ndarray) -> None:
    """The maximum-likelihood rewards are finite only if every group of items has beaten, and been
    beaten by, the rest at least once (the win graph is strongly connected; Zermelo, 1929)."""
    from scipy.sparse.csgraph import connected_components

    if connected_components(wins > 0, directed=True, connection="weak")[0] > 1:
        raise ValueError("the comparisons split the items into groups never compared with each "
                         "other: the offset between groups is not identifiable; pass l2 > 0")
    k, group = connected_components(wins > 0, directed=True, connection="strong")
    if k > 1:
        never_lost = np.flatnonzero((wins.sum(1) > 0) & (wins.sum(0) == 0)).tolist()
        never_won = np.flatnonzero(wins.sum(1) == 0).tolist()
        which = "; ".join(f"items {items} never {what}" for items, what in
                          ((never_lost, "lost"), (never_won, "won")) if items)
        raise ValueError(f"the items fall into {k} groups, and one side won every comparison "
                         f"between two of them{' (' + which + ')' if which else ''}: the likelihood "
                         "keeps rising as their gap grows, so its maximum is at infinity; pass l2 > 0")


def fit_rewards(comparisons: np.ndarray, n_items: int, l2: float = 0.0,
                max_iter: int = 100, tol: float = 1e-10) -> np.ndarray:
    """Maximum-likelihood Bradley-Terry rewards, shape (n_items,), with mean zero.

    Minimizes `nll` (+ l2/2 * |r|^2 if l2 > 0) by Newton's method; the problem is convex.
    The gauge is fixed by the mean-zero constraint: adding any constant to the rewards leaves
    every probability unchanged, so the data cannot tell the constant. If some item never loses
    (or never wins) the unregularized maximum sits at infinity; pass a small l2 for such data.
    """
    comparisons = np.asarray(comparisons)
    if comparisons.ndim != 2 or comparisons.shape[1] != 2 or len(comparisons) == 0:
        raise ValueError(f"comparisons must have shape (n, 2) with n > 0, got {comparisons.shape}")
    if not (np.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2 must be a number >= 0, got {l2}")
    if comparisons.min() < 0 or comparisons.max() >= n_items:
        raise ValueError(f"items are numbered 0 to {n_items - 1} (n_items={n_items}), but the "
                         f"comparisons name items {comparisons.min()} to {comparisons.max()}")
    w, lo = comparisons[:, 0], comparisons[:, 1]
    n = len(comparisons)
    seen = np.bincount(comparisons.ravel(), minlength=n_items)
    if l2 == 0 and np.any(seen == 0):
        raise ValueError(
            f"items {np.flatnonzero(seen == 0).tolist()} appear in no comparison, so nothing in "
            "the data says anything about their rewards; pass l2 > 0 to pin them at the mean")
    if l2 == 0:
        _check_finite_maximum(win_counts(comparisons, n_items))
    r = np.zeros(n_items)
    ones = np.ones((n_items, n_items)) / n_items
    for _ in range(max_iter):
        grad = nll_grad(r, comparisons) + l2 * r
        s = expit(r[w] - r[lo])
        c = s * (1 - s) / n  # curvature of each comparison
        hess = np.zeros((n_items, n_items))
        np.add.at(hess, (w, w), c)
        np.add.at(hess, (lo, lo), c)
        np.add.at(hess, (w, lo), -c)
        np.add.at(hess, (lo, w), -c)
        hess += l2 * np.eye(n_items)
        # The constant direction is flat (the gauge); `ones` makes the Hessian invertible and,
        # since the gradient sums to zero, the step keeps the mean where it is. (With l2 = 0 the
        # data were checked above to have a finite maximum, so the system is not singular.)
        step = np.linalg.solve(hess + ones, grad)
        r = r - step
        r -= r.mean()
        if np.max(np.abs(step)) < tol:
            break
    return r


def accuracy(rewards: np.ndarray, comparisons: np.ndarray) -> float:
    """Fraction of comparisons the reward model classifies right (strictly higher winner reward)."""
    return float(np.mean(comparison_logits(rewards, comparisons) > 0))


def noise_sweep(rewards, temperatures, n: int, seed: int = 0, l2: float = 1e-3) -> dict:
    """Fit rewards from n simulated comparisons at each temperature (computed once, for a slider).

    Returns a dict with "temperatures" (T,), "fits" (T, n_items) mean-zero fitted rewards,
    "targets" (T, n_items) = mean-zero rewards / temperature (what a fit can recover),
    "agreement" (T,) = fraction of comparisons where the reviewer picked the higher true reward,
    and "comparisons" (T, n, 2): the (winner, loser) pairs each fit was made from.
    """
    rewards = np.asarray(rewards, dtype=float)
    temps = np.asarray(temperatures, dtype=float)
    fits, targets, agree, drawn = [], [], [], []
    for i, t in enumerate(temps):
        comps = simulate_comparisons(rewards, n, temperature=t, seed=seed + i)
        fits.append(fit_rewards(comps, len(rewards), l2=l2))
        targets.append((rewards - rewards.mean()) / t)
        agree.append(accuracy(rewards, comps))
        drawn.append(comps)
    return {"temperatures": temps, "fits": np.array(fits), "targets": np.array(targets),
            "agreement": np.array(agree), "comparisons": np.array(drawn)}
