"""DPO, IPO and their ablations trained on the bandit's tabular policy (`dpolab.bandit`).

The policy is one logit per prompt and reply, shape (P, K); a reply is a single "token", so
log pi(y | x) = log_softmax(logits)[x, y] and `dpolab.losses.dpo_loss` (Eq. 7 of
https://arxiv.org/abs/2305.18290) applies unchanged. "exact" training minimizes the expected loss
over every reply pair (so it converges to Eq. 4's optimum, `bandit.optimal_policy`), "sampled"
training takes Adam steps on pairs drawn once, as a dataset would be.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass

import numpy as np
import torch

from dpolab.bandit import Bandit, pair_table, sample_pairs
from dpolab.losses import LENGTH_NORMALIZED, dpo_loss


@dataclass
class TrainResult:
    """History of a tabular training run.

    steps: (T,) recorded step numbers; probs: (T, P, K) policies at those steps;
    loss: (T,) the training loss; margin: (T,) mean log-ratio margin h(y_w) - h(y_l) over the
    exact pair table (each pair weighted by its chance of being drawn, the prompts equally;
    oriented by the better true reward); logits: final (P, K).
    """

    steps: np.ndarray
    probs: np.ndarray
    loss: np.ndarray
    margin: np.ndarray
    logits: np.ndarray
    beta: float

    @property
    def policy(self) -> np.ndarray:
        return self.probs[-1]


def _pair_loss(logp, ref_logp, prompt, chosen, rejected, beta, loss_type, label_smoothing,
               reference_free):
    pc, pr = logp[prompt, chosen], logp[prompt, rejected]
    if loss_type == "unweighted":  # -(log pi(y_w) - log pi(y_l)): beta 1, no reference
        beta, reference_free = 1.0, True
    losses, _, _ = dpo_loss(pc, pr, ref_logp[prompt, chosen], ref_logp[prompt, rejected], beta,
                            loss_type=loss_type, label_smoothing=label_smoothing,
                            reference_free=reference_free)
    return losses


def train_tabular(bandit: Bandit, beta: float, loss_type: str = "sigmoid", mode: str = "exact",
                  steps: int = 2000, lr: float = 0.05, sampler: str = "reference",
                  temperature: float = 1.0, n_pairs: int = 2000, batch_size: int = 256,
                  label_smoothing: float = 0.0, reference_free: bool = False, seed: int = 0,
                  record_every: int = 10, init: str = "reference", cache: bool = False) -> TrainResult:
    """Train a tabular policy (one logit per prompt and reply) with DPO, IPO, hinge or "unweighted".

    Args:
        bandit: the toy world.
        beta: tether strength passed to `dpo_loss`.
        loss_type: "sigmoid" (DPO), "ipo", "hinge" or "unweighted" (see `dpo_loss`). The
            unweighted ablation runs here with beta = 1 and no reference (to it they are only a
            scale and a constant), so `beta` and `reference_free` do not change it: the loss is
            -(log pi(y_w) - log pi(y_l)), chosen pushed up and rejected down. It is unbounded
            below: nothing stops the margin, so training runs off.
        mode: "exact" minimizes the expected loss, summing over every reply pair weighted by its
            sampling probability and its Bradley-Terry label probability; "sampled" draws
            n_pairs labelled pairs per prompt once (`sample_pairs`) and takes Adam steps on
            minibatches of batch_size pairs.
        init: "reference" starts the policy at pi_ref (the usual start, loss = log 2),
            "uniform" at zero logits.
        cache: keep the result in the dpolab cache (`dpolab.cache`), keyed by the world, these
            arguments and the source of this module, `bandit` and `losses`, so that a notebook run
            again reads it instead of training (the same numbers: JSON keeps every float64).
    Returns:
        a `TrainResult` (history every record_every steps and at the end).
    """
    args = dict(beta=beta, loss_type=loss_type, mode=mode, steps=steps, lr=lr, sampler=sampler,
                temperature=temperature, n_pairs=n_pairs, batch_size=batch_size,
                label_smoothing=label_smoothing, reference_free=reference_free, seed=seed,
                record_every=record_every, init=init)
    if cache:
        from dpolab import bandit as bandit_module, losses
        from dpolab.cache import cached_json, source_fingerprint
        config = {**args, "world": _world_key(bandit),
                  "code": source_fingerprint(sys.modules[__name__], bandit_module, losses)}
        kept = cached_json("tabular", config, lambda: {
            k: v.tolist() for k, v in vars(train_tabular(bandit, **args)).items() if k != "beta"})
        return TrainResult(**{k: np.array(v) for k, v in kept.items()}, beta=beta)
    # The tensors here hold ten numbers: one thread is fastest, and on a busy machine extra
    # intra-op threads only spin (measured 10x slower with 2 threads under load).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_tabular(bandit, beta, loss_type, mode, steps, lr, sampler, temperature,
                              n_pairs, batch_size, label_smoothing, reference_free, seed,
                              record_every, init)
    finally:
        torch.set_num_threads(threads)


def _world_key(bandit: Bandit) -> str:
    """sha256 (16 hex digits) of everything that defines a world."""
    world = [bandit.prompts, bandit.labels, bandit.replies, bandit.rewards.tolist(),
             bandit.reference_probs.tolist()]
    return hashlib.sha256(json.dumps(world).encode()).hexdigest()[:16]


def _train_tabular(bandit, beta, loss_type, mode, steps, lr, sampler, temperature, n_pairs,
                   batch_size, label_smoothing, reference_free, seed, record_every, init):
    if init not in ("reference", "uniform"):
        raise ValueError(f"init must be 'reference' or 'uniform', got {init!r}")
    if loss_type in LENGTH_NORMALIZED:
        raise ValueError(f"loss_type {loss_type!r} divides by reply lengths, and a tabular reply is "
                         "one token: use 'sigmoid' (sigmoid_norm at length 1), with "
                         "reference_free=True for SimPO's (without its margin)")
    for name, value, least in (("record_every", record_every, 1), ("batch_size", batch_size, 1),
                               ("n_pairs", n_pairs, 1), ("steps", steps, 0)):
        if value < least:
            raise ValueError(f"{name} must be >= {least}, got {value}")
    if (bandit.reference_probs <= 0).any():
        p, k = np.argwhere(bandit.reference_probs <= 0)[0]
        raise ValueError(f"the reference gives reply {k} of prompt {p} probability 0, so its log-ratio "
                         "log pi/pi_ref, which every loss here needs, is undefined; give every reply "
                         "some probability (Eq. 4's optimum keeps a reply at 0 where pi_ref is 0: "
                         "bandit.optimal_policy)")
    torch.manual_seed(seed)
    ref_logp = torch.log(torch.as_tensor(bandit.reference_probs, dtype=torch.float64))
    start = ref_logp.clone() if init == "reference" else torch.zeros_like(ref_logp)
    logits = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=lr)
    table = pair_table(bandit, sampler, temperature)
    t_prompt = torch.as_tensor(table["prompt"])
    t_i, t_j = torch.as_tensor(table["i"]), torch.as_tensor(table["j"])
    w = torch.as_tensor(table["weight"]) / bandit.shape[0]
    p_i = torch.as_tensor(table["p_i"])
    # Orientation for the margin readout: the truly better reply first.
    better_i = torch.as_tensor(bandit.rewards[table["prompt"], table["i"]]
                               >= bandit.rewards[table["prompt"], table["j"]])
    top, low = torch.where(better_i, t_i, t_j), torch.where(better_i, t_j, t_i)
    if mode == "exact":
        # Both orientations of each pair: (i chosen) with weight w p_i, (j chosen) with w (1 - p_i).
        prompt = torch.cat([t_prompt, t_prompt])
        chosen, rejected = torch.cat([t_i, t_j]), torch.cat([t_j, t_i])
        pair_w = torch.cat([w * p_i, w * (1 - p_i)])
    elif mode == "sampled":
        data = sample_pairs(bandit, n_pairs, sampler, temperature, seed)
        d_prompt, d_chosen, d_rejected = (torch.as_tensor(data[k]) for k in
                                          ("prompt", "chosen", "rejected"))
        gen = torch.Generator().manual_seed(seed)
    else:
        raise ValueError(f"mode must be 'exact' or 'sampled', got {mode!r}")
    rec_steps, rec_probs, rec_loss, rec_margin = [], [], [], []
    for step in range(steps + 1):
        logp = torch.log_softmax(logits, dim=-1)  # (P, K): log pi(y|x) of a one-token reply
        if mode == "sampled":
            idx = torch.randint(len(d_prompt), (batch_size,), generator=gen)
            prompt, chosen, rejected = d_prompt[idx], d_chosen[idx], d_rejected[idx]
            pair_w = torch.full((batch_size,), 1.0 / batch_size, dtype=torch.float64)
        losses = _pair_loss(logp, ref_logp, prompt, chosen, rejected, beta, loss_type,
                            label_smoothing, reference_free)
        loss = (pair_w * losses).sum()
        if step % record_every == 0 or step == steps:
            with torch.no_grad():
                h = logp - ref_logp
                margin = (w * (h[t_prompt, top] - h[t_prompt, low])).sum()  # w sums to 1
            rec_steps.append(step)
            rec_probs.append(logp.detach().exp().numpy())
            rec_loss.append(loss.item())
            rec_margin.append(margin.item())
        if step == steps:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    return TrainResult(np.array(rec_steps), np.array(rec_probs), np.array(rec_loss),
                       np.array(rec_margin), logits.detach().numpy(), beta)
