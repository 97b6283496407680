"""The DPO loss and its variants, as pure functions of summed sequence log-probs.

Notation follows the paper (Rafailov et al., 2023, https://arxiv.org/abs/2305.18290; "Eq. N"
below is its equation N): y_w is the chosen reply, y_l the rejected one, pi_theta the policy
being trained, pi_ref the frozen reference, beta the tether strength (larger beta = tighter
tether = closer to the reference). The variants: IPO (Azar et al., 2023,
https://arxiv.org/abs/2310.12036), conservative DPO (Mitchell, 2023,
https://ericmitchell.ai/cdpo.pdf), a SLiC-style hinge (Zhao et al., 2023,
https://arxiv.org/abs/2305.10425) and the unweighted ablation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSS_TYPES = ("sigmoid", "ipo", "hinge", "unweighted")


def _check(beta: float, label_smoothing: float, loss_type: str, *logps: torch.Tensor) -> None:
    if not beta > 0:  # also rejects NaN
        raise ValueError(f"beta must be > 0 (it is the tether strength), got {beta!r}")
    if not 0.0 <= label_smoothing < 0.5:
        raise ValueError(f"label_smoothing must be in [0, 0.5), got {label_smoothing!r}")
    if loss_type not in LOSS_TYPES:
        raise ValueError(f"unknown loss_type {loss_type!r}; choose one of {LOSS_TYPES}")
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
) -> torch.Tensor:
    """The log-ratio margin h = log pi(y_w)/pi_ref(y_w) - log pi(y_l)/pi_ref(y_l), shape (B,).

    The loss depends on the four log-probs only through this number; beta * h is the
    implicit reward margin r_hat(x, y_w) - r_hat(x, y_l).
    """
    pi_logratios = policy_chosen_logps - policy_rejected_logps
    ref_logratios = 0.0 if reference_free else reference_chosen_logps - reference_rejected_logps
    return pi_logratios - ref_logratios


def dpo_loss(
    policy_chosen_logps: torch.Tensor,
    policy_rejected_logps: torch.Tensor,
    reference_chosen_logps: torch.Tensor,
    reference_rejected_logps: torch.Tensor,
    beta: float = 0.1,
    loss_type: str = "sigmoid",
    label_smoothing: float = 0.0,
    reference_free: bool = False,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-pair DPO loss and implicit rewards.

    Args:
        policy_chosen_logps: log pi_theta(y_w | x), summed over completion tokens, shape (B,).
        policy_rejected_logps: log pi_theta(y_l | x), shape (B,).
        reference_chosen_logps: log pi_ref(y_w | x), shape (B,).
        reference_rejected_logps: log pi_ref(y_l | x), shape (B,).
        beta: tether strength, > 0. Larger beta keeps the policy closer to the reference.
        loss_type: "sigmoid" (DPO, Eq. 7), "ipo" (IPO: squared loss toward 1 / (2 beta)),
            "hinge" (SLiC-style max(0, 1 - beta h)) or "unweighted" (the ablation -beta h:
            DPO's gradient with every pair's weight fixed at 1; the reference only adds a
            constant, so nothing stops the margin from growing).
        label_smoothing: eps in [0, 0.5): the probability that a label is flipped. With
            "sigmoid" this is conservative DPO, (1 - eps) L(w, l) + eps L(l, w).
        reference_free: drop the reference (pi_ref uniform): the ablation without a tether.

    Returns:
        (losses, chosen_rewards, rejected_rewards), each shape (B,). The rewards are the
        implicit rewards r_hat = beta * (log pi_theta - log pi_ref), detached (Eq. 5 without
        the log Z term, which cancels between the two replies).
    """
    _check(beta, label_smoothing, loss_type, policy_chosen_logps, policy_rejected_logps,
           reference_chosen_logps, reference_rejected_logps)
    logits = dpo_logits(policy_chosen_logps, policy_rejected_logps,
                        reference_chosen_logps, reference_rejected_logps, reference_free)
    if loss_type == "sigmoid":
        # Eq. 7: -log sigma(beta * h), mixed with the flipped label when smoothing.
        losses = (-F.logsigmoid(beta * logits) * (1 - label_smoothing)
                  - F.logsigmoid(-beta * logits) * label_smoothing)
    elif loss_type == "ipo":
        # IPO: regress h onto the finite target 1 / (2 beta).
        losses = (logits - 1 / (2 * beta)) ** 2
    elif loss_type == "hinge":
        losses = torch.relu(1 - beta * logits)
    else:
        # no sigma(-beta h) weight: grad = -beta (grad log pi(y_w) - grad log pi(y_l)) for every pair
        losses = -beta * logits
    chosen_rewards, rejected_rewards = implicit_rewards(
        policy_chosen_logps, policy_rejected_logps,
        reference_chosen_logps, reference_rejected_logps, beta)
    return losses, chosen_rewards, rejected_rewards


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
