"""The finite-response toy world: prompts with a handful of canned replies.

Each prompt x has K canned replies y with a known reward r(x, y) and a reference probability
pi_ref(y | x). With so few replies everything the DPO paper derives can be computed exactly
(Eq. N of https://arxiv.org/abs/2305.18290):

    Eq. 4   pi*(y|x) = pi_ref(y|x) exp(r(x, y) / beta) / Z(x)       (the KL-tethered optimum)
    Eq. 5   r(x, y)  = beta log pi*(y|x) / pi_ref(y|x) + beta log Z(x)
    Eq. 7   L_DPO    = -E log sigma(beta [h(y_w) - h(y_l)]),  h = log pi / pi_ref

and a tabular policy (one logit per prompt and reply) trained with `dpolab.losses.dpo_loss`
(`dpolab.tabular`) can be checked against the exact optimum. A reply is a single "token", so its summed log-prob is
simply log pi(y | x).

Arrays of probabilities and rewards have shape (P, K) (prompts, replies) or (K,) for one prompt;
functions work along the last axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.special import expit, logsumexp


PROMPTS = (
    "Can I move my colonoscopy to Friday, and should I stop my blood thinner before it?",
    "I've had chest pain since this morning. Can I get an appointment next week?",
)

# (short label, reply, reward). The safe reply reschedules and defers medical judgement.
REPLIES = (
    (
        ("safe", "I can move you to Friday at 9:00. Please ask your care team before changing "
                 "your blood thinner; I'll send them a message now.", 2.0),
        ("casual advice", "Friday at 9:00 works. Most people just stop their blood thinner "
                          "two days before, so do that.", -1.5),
        ("over-refusal", "I'm sorry, I can't help with anything related to medications.", -0.5),
        ("made-up fact", "Done. Our clinic no longer requires any preparation for colonoscopies.",
         -2.0),
        ("missed question", "I've moved your colonoscopy to Friday at 9:00.", 0.5),
    ),
    (
        ("safe", "Chest pain can be urgent. Please call emergency services now; I can book a "
                 "follow-up once you've been seen.", 2.0),
        ("casual advice", "It's probably indigestion. Next Tuesday at 10:00 is free.", -2.0),
        ("over-refusal", "I can only schedule appointments and cannot discuss symptoms.", -0.5),
        ("made-up fact", "Chest pain that starts in the morning is never serious. Booked for "
                         "Tuesday.", -2.0),
        ("missed question", "Next Tuesday at 10:00 is booked for you.", -1.0),
    ),
)

# Reference policies: a "good" one (a decent supervised model that still says risky things
# sometimes) and a "poor" one that rarely produces the safe reply.
REFERENCES = {
    "good": ((0.35, 0.25, 0.10, 0.05, 0.25), (0.40, 0.20, 0.15, 0.05, 0.20)),
    "poor": ((0.02, 0.55, 0.08, 0.15, 0.20), (0.02, 0.50, 0.10, 0.18, 0.20)),
}


@dataclass(frozen=True)
class Bandit:
    """Prompts, their canned replies, true rewards (P, K) and reference probabilities (P, K)."""

    prompts: tuple[str, ...]
    labels: tuple[str, ...]
    replies: tuple[tuple[str, ...], ...]
    rewards: np.ndarray = field(repr=False)
    reference_probs: np.ndarray = field(repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        return self.rewards.shape

    def subset(self, replies: list[int], prompts: list[int] | None = None) -> "Bandit":
        """The same world restricted to some replies (reference renormalized) and prompts."""
        prompts = list(range(len(self.prompts))) if prompts is None else prompts
        ref = self.reference_probs[np.ix_(prompts, replies)]
        return Bandit(tuple(self.prompts[p] for p in prompts),
                      tuple(self.labels[k] for k in replies),
                      tuple(tuple(self.replies[p][k] for k in replies) for p in prompts),
                      self.rewards[np.ix_(prompts, replies)].copy(),
                      ref / ref.sum(-1, keepdims=True))


def clinic_bandit(reference: str = "good", prompts: int = 2) -> Bandit:
    """The clinic scheduling toy: `prompts` (1 or 2) prompts x 5 replies, rewards and a reference.

    `reference` is "good" or "poor" (the poor reference puts ~2% on the safe reply).
    """
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {sorted(REFERENCES)}, got {reference!r}")
    if prompts not in (1, 2):
        raise ValueError(f"prompts must be 1 or 2, got {prompts!r}")
    table = REPLIES[:prompts]
    return Bandit(
        prompts=PROMPTS[:prompts],
        labels=tuple(label for label, _, _ in table[0]),
        replies=tuple(tuple(text for _, text, _ in rows) for rows in table),
        rewards=np.array([[r for _, _, r in rows] for rows in table]),
        reference_probs=np.array(REFERENCES[reference][:prompts]),
    )


# ---------------------------------------------------------------- the exact KL-tethered optimum

def _check_beta(beta) -> None:
    if not np.all(np.asarray(beta) > 0):   # also NaN; an array of betas broadcasts
        raise ValueError(f"beta must be > 0, got {beta!r}")


def optimal_policy(reference_probs, rewards, beta: float) -> np.ndarray:
    """Eq. 4: pi*(y|x) = pi_ref(y|x) exp(r(x, y) / beta) / Z(x), along the last axis.

    The maximizer of E_pi[r] - beta KL(pi || pi_ref). beta -> inf gives pi_ref, beta -> 0 puts
    all mass on the highest-reward reply the reference can produce. Computed in log space.
    """
    _check_beta(beta)
    with np.errstate(divide="ignore"):   # log 0 = -inf: a reply the reference never writes stays at 0
        logits = np.log(np.asarray(reference_probs, dtype=float)) + np.asarray(rewards, float) / beta
    return np.exp(logits - logsumexp(logits, axis=-1, keepdims=True))


def log_partition(reference_probs, rewards, beta: float) -> np.ndarray:
    """log Z(x) = log sum_y pi_ref(y|x) exp(r(x, y) / beta), shape (P,) (or scalar)."""
    _check_beta(beta)
    return logsumexp(np.log(np.asarray(reference_probs, float)) + np.asarray(rewards, float) / beta,
                     axis=-1)


def kl(probs, reference_probs) -> np.ndarray:
    """KL(pi || pi_ref) = sum_y pi log(pi / pi_ref) along the last axis (0 log 0 = 0)."""
    p = np.asarray(probs, dtype=float)
    q = np.asarray(reference_probs, dtype=float)
    terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
    return terms.sum(-1)


def expected_reward(probs, rewards) -> np.ndarray:
    """E_{y ~ pi}[r(x, y)] along the last axis."""
    return (np.asarray(probs, float) * np.asarray(rewards, float)).sum(-1)


def total_variation(p, q) -> float:
    """Largest total-variation distance 1/2 sum_y |p - q| over prompts."""
    return float(np.max(0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum(-1)))


def frontier(reference_probs, rewards, betas) -> dict:
    """The reward/KL frontier traced by beta, averaged over prompts.

    Returns {"betas": (B,), "kl": (B,), "reward": (B,), "objective": (B,)}, where objective is
    E[r] - beta KL at the optimum for that beta.
    """
    betas = np.asarray(betas, dtype=float)
    kls, rews = [], []
    for beta in betas:
        pi = optimal_policy(reference_probs, rewards, beta)
        kls.append(np.mean(kl(pi, reference_probs)))
        rews.append(np.mean(expected_reward(pi, rewards)))
    kls, rews = np.array(kls), np.array(rews)
    return {"betas": betas, "kl": kls, "reward": rews, "objective": rews - betas * kls}


# ---------------------------------------------------------------- preference pairs

def pair_table(bandit: Bandit, sampler: str = "reference", temperature: float = 1.0) -> dict:
    """Every unordered reply pair {i, j}, i < j, with its sampling probability and label.

    Two replies are drawn independently from the sampler (pi_ref, or "uniform"); draws of the
    same reply are discarded. Labels come from Bradley-Terry on the true rewards:
    P(i preferred) = sigma((r_i - r_j) / temperature), temperature 0 = deterministic.

    Returns a dict of arrays, each (N,): "prompt", "i", "j", "weight" (probability of drawing the
    pair, summing to 1 within each prompt) and "p_i" (probability that i is labelled chosen).
    """
    if not (np.isfinite(temperature) and temperature >= 0):
        raise ValueError(f"temperature must be a number >= 0 (0: the better reply always wins), "
                         f"got {temperature}")
    p_count, k = bandit.shape
    if sampler == "reference":
        mu = bandit.reference_probs
    elif sampler == "uniform":
        mu = np.full((p_count, k), 1.0 / k)
    else:
        raise ValueError(f"sampler must be 'reference' or 'uniform', got {sampler!r}")
    ii, jj = np.triu_indices(k, 1)
    prompt = np.repeat(np.arange(p_count), len(ii))
    i, j = np.tile(ii, p_count), np.tile(jj, p_count)
    weight = 2 * mu[prompt, i] * mu[prompt, j]
    total = np.bincount(prompt, weights=weight, minlength=p_count)
    if (total <= 0).any():
        raise ValueError(f"the {sampler} sampler gives prompt {np.flatnonzero(total <= 0)[0]} only one "
                         "reply, so no pair of two different replies can be drawn")
    weight = weight / total[prompt]
    gap = bandit.rewards[prompt, i] - bandit.rewards[prompt, j]
    p_i = (np.where(gap > 0, 1.0, np.where(gap < 0, 0.0, 0.5)) if temperature == 0
           else expit(gap / temperature))
    return {"prompt": prompt, "i": i, "j": j, "weight": weight, "p_i": p_i}


def sample_pairs(bandit: Bandit, n_per_prompt: int, sampler: str = "reference",
                 temperature: float = 1.0, seed: int = 0) -> dict:
    """A preference data set: n_per_prompt labelled pairs per prompt.

    Returns {"prompt", "chosen", "rejected"}: int arrays of shape (P * n_per_prompt,).
    """
    table = pair_table(bandit, sampler, temperature)
    rng = np.random.default_rng(seed)
    prompts, chosen, rejected = [], [], []
    for p in range(bandit.shape[0]):
        rows = np.flatnonzero(table["prompt"] == p)
        pick = rng.choice(rows, size=n_per_prompt, p=table["weight"][rows])
        i_wins = rng.random(n_per_prompt) < table["p_i"][pick]
        prompts.append(np.full(n_per_prompt, p))
        chosen.append(np.where(i_wins, table["i"][pick], table["j"][pick]))
        rejected.append(np.where(i_wins, table["j"][pick], table["i"][pick]))
    return {"prompt": np.concatenate(prompts), "chosen": np.concatenate(chosen),
            "rejected": np.concatenate(rejected)}


def implicit_reward(probs, reference_probs, beta: float) -> np.ndarray:
    """r_hat(x, y) = beta log pi(y|x) / pi_ref(y|x) (Eq. 5 without beta log Z(x)), shape (P, K)."""
    return beta * (np.log(np.asarray(probs, float)) - np.log(np.asarray(reference_probs, float)))


def ipo_optimal_policy(bandit: Bandit, beta: float, sampler: str = "reference",
                       temperature: float = 1.0) -> np.ndarray:
    """The exact minimizer of the expected IPO loss over tabular policies, shape (P, K).

    With h = log pi / pi_ref and d_ij = h_i - h_j, the expected IPO loss of pair {i, j} is
    w_ij [p_ij (d_ij - tau)^2 + (1 - p_ij) (d_ij + tau)^2], tau = 1 / (2 beta), which equals
    w_ij (d_ij - tau (2 p_ij - 1))^2 plus a constant. Minimizing the sum over pairs is weighted
    least squares on a graph: L h = b with L the w-weighted graph Laplacian and
    b_i = sum_j w_ij tau (2 p_ij - 1) (p_ji = 1 - p_ij). Unique up to a constant in h.
    """
    _check_beta(beta)
    table = pair_table(bandit, sampler, temperature)
    p_count, k = bandit.shape
    tau = 1.0 / (2.0 * beta)
    out = np.zeros((p_count, k))
    for p in range(p_count):
        rows = table["prompt"] == p
        i, j, wt = table["i"][rows], table["j"][rows], table["weight"][rows]
        target = tau * (2 * table["p_i"][rows] - 1)  # desired h_i - h_j
        lap = np.zeros((k, k))
        np.add.at(lap, (i, i), wt)
        np.add.at(lap, (j, j), wt)
        np.add.at(lap, (i, j), -wt)
        np.add.at(lap, (j, i), -wt)
        b = np.zeros(k)
        np.add.at(b, i, wt * target)
        np.add.at(b, j, -wt * target)
        h = np.linalg.lstsq(lap, b, rcond=None)[0]
        logits = np.log(bandit.reference_probs[p]) + h
        out[p] = np.exp(logits - logsumexp(logits))
    return out
