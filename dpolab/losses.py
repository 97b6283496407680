"""The DPO loss and its variants, as pure functions of summed sequence log-probs.

Notation follows the paper (Rafailov et al., 2023, https://arxiv.org/abs/2305.18290; "Eq. N"
below is its equation N): y_w is the chosen reply, y_l the rejected one, pi_theta the policy
being trained, pi_ref the frozen reference, beta the tether strength (larger beta = tighter
tether = closer to the reference). The variants: IPO (Azar et al., 2023,
https://arxiv.org/abs/2310.12036), conservative DPO (Mitchell, 2023,
https://ericmitchell.ai/cdpo.pdf), robust DPO (Chowdhury et al., 2024,
https://arxiv.org/abs/2403.00409), a SLiC-style hinge (Zhao et al., 2023,
https://arxiv.org/abs/2305.10425), the unweighted ablation, and two length-normalized losses:
DPO on per-token log-ratios (TRL's `sigmoid_norm`, the DPO of Tulu 3: Lambert et al., 2024,
https://arxiv.org/abs/2411.15124) and SimPO (Meng et al., 2024, https://arxiv.org/abs/2405.14734),
which also drops the reference.

|y| below is a reply's length: the number of completion tokens its summed log-prob runs over
(`logprobs.completion_lengths`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOSS_TYPES = ("sigmoid", "ipo", "hinge", "unweighted", "robust", "sigmoid_norm", "simpo")
LENGTH_NORMALIZED = ("sigmoid_norm", "simpo")  # the loss types that need the replies' lengths


def check_options(beta: float, label_smoothing: float, loss_type: str, simpo_gamma: float) -> None:
    """Raise a ValueError naming the first bad option (shared by `dpo_loss` and `DPOConfig`)."""
    if not (math.isfinite(beta) and beta > 0):  # also rejects NaN and inf (inf * 0 margins is NaN)
        raise ValueError(f"beta must be a finite number > 0 (it is the tether strength), got {beta!r}")
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing!r}")
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"unknown loss_type {loss_type!r}; choose one of {LOSS_TYPES}")
    if not (math.isfinite(simpo_gamma) and simpo_gamma >= 0):
        raise ValueError(f"simpo_gamma must be finite and >= 0 (SimPO's target margin), "
                         f"got {simpo_gamma!r}")


def _check_lengths(loss_type: str, chosen_lengths, rejected_lengths, batch_shape) -> None:
    if chosen_lengths is None or rejected_lengths is None:
        raise ValueError(f"loss_type {loss_type!r} divides each reply's log-prob by its length: "
                         f"pass chosen_lengths and rejected_lengths (completion tokens per reply)")
    for name, n in (("chosen_lengths", chosen_lengths), ("rejected_lengths", rejected_lengths)):
        if tuple(n.shape) != batch_shape:
            raise ValueError(f"{name} must have the log-probs' shape {batch_shape}, "
                             f"got {tuple(n.shape)}")
        if not bool((n >= 1).all()):  # also rejects NaN
            raise ValueError(f"loss_type {loss_type!r}: every reply needs >= 1 completion token "
                             f"(was one emptied by truncation?); {name} has {n.min().item()}")


def _check(beta: float, label_smoothing: float, loss_type: str, simpo_gamma: float,
           *logps: torch.Tensor) -> None:
    check_options(beta, label_smoothing, loss_type, simpo_gamma)
    shapes = {tuple(t.shape) for t in logps}
    if len(shapes) != 1:
        names = ("policy_chosen", "policy_rejected", "reference_chosen", "reference_rejected")
        got = ", ".join(f"{n}_logps {tuple(t.shape)}" for n, t in zip(names, logps))
        raise ValueError(f"all four log-prob tensors must have the same shape (B,), got {got}")


def dpo_logits(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    reference_free: bool = False,
    chosen_lengths: torch.Tensor | None = None,
    rejected_lengths: torch.Tensor | None = None,
) -> torch.Tensor:
    """The log-ratio margin h = log pi(y_w)/pi_ref(y_w) - log pi(y_l)/pi_ref(y_l), shape (B,).

    The loss depends on the four log-probs only through this number; beta * h is the
    implicit reward margin r_hat(x, y_w) - r_hat(x, y_l). Given the lengths (each (B,)), each
    reply's log-ratio is divided by its length: h_w / |y_w| - h_l / |y_l|, the margin per token.
    """
    if chosen_lengths is None and rejected_lengths is None:
        pi_logratios = policy_chosen_logps - policy_rejected_logps
        ref_logratios = 0.0 if reference_free else reference_chosen_logps - reference_rejected_logps
        return pi_logratios - ref_logratios
    chosen = policy_chosen_logps - (0.0 if reference_free else reference_chosen_logps)
    rejected = policy_rejected_logps - (0.0 if reference_free else reference_rejected_logps)
    return chosen / chosen_lengths - rejected / rejected_lengths


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    beta: float = 0.1,
    loss_type: str = "sigmoid",
    label_smoothing: float = 0.0,
    reference_free: bool = False,
    chosen_lengths: torch.Tensor | None = None,
    rejected_lengths: torch.Tensor | None = None,
    simpo_gamma: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair DPO loss and implicit rewards.

    Args:
        policy_chosen_logps: log pi_theta(y_w | x), summed over completion tokens, shape (B,).
        policy_rejected_logps: log pi_theta(y_l | x), shape (B,).
        reference_chosen_logps: log pi_ref(y_w | x), shape (B,).
        reference_rejected_logps: log pi_ref(y_l | x), shape (B,).
        beta: tether strength, > 0. Larger beta keeps the policy closer to the reference.
        loss_type: "sigmoid" (DPO, Eq. 7), "ipo" (IPO: squared loss toward 1 / (2 beta)),
            "hinge" (SLiC-style max(0, 1 - beta h)), "unweighted" (the ablation -beta h:
            DPO's gradient with every pair's weight fixed at 1; the reference only adds a
            constant, so nothing stops the margin from growing), "robust" (robust DPO: the
            DPO loss corrected, without bias, for labels flipped with probability
            label_smoothing), "sigmoid_norm" (DPO on the margin per token,
            h_w / |y_w| - h_l / |y_l|) or "simpo" (SimPO: reference-free, per token, with a
            target margin simpo_gamma). The last two need the lengths.
        label_smoothing: eps in [0, 0.5): the probability that a label is flipped. With
            "sigmoid" this is conservative DPO, (1 - eps) L(w, l) + eps L(l, w), and
            "sigmoid_norm" and "simpo" mix in the flipped label the same way; "robust" uses
            it to undo the flips; the other loss types ignore it.
        reference_free: drop the reference (pi_ref uniform): the ablation without a tether.
            "simpo" is always reference-free.
        chosen_lengths: |y_w|, shape (B,): the number of completion tokens that
            policy_chosen_logps sums over (`logprobs.completion_lengths`), each >= 1. Needed by
            "sigmoid_norm" and "simpo", unused by the others.
        rejected_lengths: |y_l|, shape (B,), likewise.
        simpo_gamma: SimPO's target margin gamma >= 0 (Eq. 6 of the SimPO paper); used only
            by "simpo".

    Returns:
        (losses, chosen_rewards, rejected_rewards), each shape (B,). The rewards are the
        implicit rewards r_hat = beta * (log pi_theta - log pi_ref), detached (Eq. 5 without
        the log Z term, which cancels between the two replies), for every loss type: the
        length-normalized and reference-free losses report them too, so metrics compare
        across loss types.
    """
    _check(beta, label_smoothing, loss_type, simpo_gamma, policy_chosen_logps,
           policy_rejected_logps, reference_chosen_logps, reference_rejected_logps)
    logps = (policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
             reference_rejected_logps)
    if loss_type in LENGTH_NORMALIZED:
        _check_lengths(loss_type, chosen_lengths, rejected_lengths, tuple(policy_chosen_logps.shape))
        # h_w / |y_w| - h_l / |y_l| (with h = log pi, no reference, for SimPO)
        logits = dpo_logits(*logps, reference_free or loss_type == "simpo",
                            chosen_lengths, rejected_lengths)
    else:
        logits = dpo_logits(*logps, reference_free)
    if loss_type in ("sigmoid", "sigmoid_norm"):
        # Eq. 7: -log sigma(beta * h), mixed with the flipped label when smoothing (cDPO).
        # sigmoid_norm (TRL's; https://arxiv.org/abs/2411.15124, length-normalized DPO):
        # -log sigma(beta * (h_w / |y_w| - h_l / |y_l|)). TRL 1.16's `sigmoid` and `sigmoid_norm`
        # ignore label_smoothing (it feeds its `robust`, `exo_pair` and `aot` losses), so our
        # cDPO has no DPOTrainer twin. TRL's answer to noisy labels is `robust`, below: another
        # objective (it removes the flipped labels' bias and, unlike cDPO, caps no margin).
        losses = _conservative(beta * logits, label_smoothing)
    elif loss_type == "simpo":
        # Eq. 6 of https://arxiv.org/abs/2405.14734:
        # -log sigma(beta * (log pi(y_w) / |y_w| - log pi(y_l) / |y_l|) - gamma)
        losses = _conservative(beta * logits - simpo_gamma, label_smoothing)
    elif loss_type == "robust":
        # rDPO, https://arxiv.org/abs/2403.00409 (as TRL's `robust`), eps = label_smoothing:
        # ((1 - eps) * -log sigma(beta h) + eps * log sigma(-beta h)) / (1 - 2 eps); its mean
        # under labels flipped with probability eps is the clean loss -log sigma(beta h).
        eps = label_smoothing
        losses = ((1 - eps) * -F.logsigmoid(beta * logits)
                  + eps * F.logsigmoid(-beta * logits)) / (1 - 2 * eps)
    elif loss_type == "ipo":
        # IPO (Eq. 17 of https://arxiv.org/abs/2310.12036): regress h onto the finite target
        # 1 / (2 beta), with h summed over tokens as in the paper. TRL's `ipo` first averages
        # each reply's log-ratio per token (h_w / |y_w| - h_l / |y_l|), so the two differ
        # unless every reply is one token long.
        losses = (logits - 1 / (2 * beta)) ** 2
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * logits)
    else:
        # no sigma(-beta h) weight: grad = -beta (grad log pi(y_w) - grad log pi(y_l)) for every pair
        losses = -beta * logits
    chosen_rewards, rejected_rewards = implicit_rewards(*logps, beta)
    return losses, chosen_rewards, rejected_rewards


def _conservative(z: torch.Tensor, eps: float) -> torch.Tensor:
    """-(1 - eps) log sigma(z) - eps log sigma(-z): the logistic loss with labels flipped w.p. eps."""
    return -F.logsigmoid(z) * (1 - eps) - F.logsigmoid(-z) * eps


def implicit_rewards(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """r_hat(x, y) = beta * (log pi_theta(y|x) - log pi_ref(y|x)), detached; each shape (B,)."""
    chosen = beta * (policy_chosen_logps - reference_chosen_logps).detach()
    rejected = beta * (policy_rejected_logps - reference_rejected_logps).detach()
    return chosen, rejected


def gradient_weight(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> torch.Tensor:
    """sigma(r_hat(y_l) - r_hat(y_w)), shape (B,): how strongly DPO pushes on each pair.

    The DPO gradient is -beta * E[ weight * (grad log pi(y_w) - grad log pi(y_l)) ]: pairs the
    implicit reward already orders correctly get little weight, mis-ordered ones get up to 1.
    """
    return torch.sigmoid(rejected_rewards - chosen_rewards)


def preference_accuracy(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> torch.Tensor:
    """Fraction of pairs with r_hat(chosen) > r_hat(rejected), strict: 0.0 when policy = reference."""
    return (chosen_rewards > rejected_rewards).float().mean()


def reward_metrics(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor,
                   chosen_logps: torch.Tensor | None = None,
                   rejected_logps: torch.Tensor | None = None, prefix: str = "") -> dict[str, float]:
    """A batch's reward metrics under TRL's names, as batch means (floats).

    `rewards/chosen`, `rewards/rejected`, `rewards/margins` (mean of chosen - rejected) and
    `rewards/accuracies` (`preference_accuracy`), plus `logps/chosen` and `logps/rejected` when
    the summed log-probs are given; every key starts with `prefix` ("eval_" on held-out pairs,
    as TRL names them). The rewards may be implicit (`implicit_rewards`) or a reward model's.
    """
    out = {"rewards/chosen": chosen_rewards.mean().item(),
           "rewards/rejected": rejected_rewards.mean().item(),
           "rewards/margins": (chosen_rewards - rejected_rewards).mean().item(),
           "rewards/accuracies": preference_accuracy(chosen_rewards, rejected_rewards).item()}
    if chosen_logps is not None:
        out["logps/chosen"] = chosen_logps.detach().mean().item()
        out["logps/rejected"] = rejected_logps.detach().mean().item()
    return {prefix + k: v for k, v in out.items()}
