"""dpo_loss and friends against closed forms and properties, not against themselves."""

import math

import pytest
import torch
import torch.nn.functional as F

from dpolab.losses import (dpo_loss, dpo_logits, gradient_weight, implicit_rewards,
                           preference_accuracy, reward_metrics)


def logps(seed, n=32):
    g = torch.Generator().manual_seed(seed)
    return [-(torch.rand(n, generator=g, dtype=torch.float64) * 30 + 1) for _ in range(4)]


@pytest.mark.parametrize("beta", [0.01, 0.1, 1.0, 5.0])
def test_loss_is_log2_when_policy_equals_reference(beta):
    _, _, rc, rr = logps(0)
    losses, chosen, rejected = dpo_loss(rc.clone(), rr.clone(), rc, rr, beta)
    torch.testing.assert_close(losses, torch.full_like(losses, math.log(2)))
    assert torch.all(chosen == 0) and torch.all(rejected == 0)
    assert preference_accuracy(chosen, rejected) == 0.0  # strict: ties do not count


def test_loss_depends_on_logps_only_through_margin():
    pc, pr, rc, rr = logps(1)
    base = dpo_loss(pc, pr, rc, rr, 0.2)[0]
    s = torch.linspace(-7, 7, len(pc), dtype=torch.float64)
    torch.testing.assert_close(dpo_loss(pc + s, pr, rc + s, rr, 0.2)[0], base)
    torch.testing.assert_close(dpo_loss(pc, pr + s, rc, rr + s, 0.2)[0], base)
    torch.testing.assert_close(dpo_loss(pc + s, pr + s, rc, rr, 0.2)[0], base)
    # and it is the closed form -log sigma(beta h), written independently with log1p/exp
    h = (pc - pr) - (rc - rr)
    torch.testing.assert_close(base, torch.log1p(torch.exp(-0.2 * h)))


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.3, 0.49])
def test_conservative_dpo_identity(eps):
    pc, pr, rc, rr = logps(2)
    smooth = dpo_loss(pc, pr, rc, rr, 0.5, label_smoothing=eps)[0]
    forward = dpo_loss(pc, pr, rc, rr, 0.5)[0]
    flipped = dpo_loss(pr, pc, rr, rc, 0.5)[0]
    torch.testing.assert_close(smooth, (1 - eps) * forward + eps * flipped)


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_ipo_fixed_point(beta):
    # IPO regresses the margin h onto 1 / (2 beta): the loss is 0 there and its minimum.
    rc = torch.zeros(41, dtype=torch.float64)
    h = 1 / (2 * beta) + torch.linspace(-1, 1, 41, dtype=torch.float64)
    losses = dpo_loss(h, rc, rc, rc, beta, loss_type="ipo")[0]
    assert losses[20].item() == pytest.approx(0.0, abs=1e-12)
    assert torch.argmin(losses).item() == 20
    torch.testing.assert_close(losses, (h - 1 / (2 * beta)) ** 2)


def test_hinge():
    z = torch.zeros(5, dtype=torch.float64)
    h = torch.tensor([-2.0, 0.0, 5.0, 10.0, 20.0], dtype=torch.float64)
    losses = dpo_loss(h, z, z, z, 0.1, loss_type="hinge")[0]
    torch.testing.assert_close(losses, torch.tensor([1.2, 1.0, 0.5, 0.0, 0.0], dtype=torch.float64))


def test_unweighted_ablation_drops_only_the_weight():
    # -beta h: its gradient is DPO's with the weight sigma(r_hat_l - r_hat_w) replaced by 1, and
    # the reference log-probs no longer change the gradient at all
    pc, pr, rc, rr = logps(4, n=8)
    beta = 0.3
    grads = []
    for ref_c, ref_r in ((rc, rr), (torch.zeros_like(rc), torch.zeros_like(rr))):
        a, b = pc.clone().requires_grad_(True), pr.clone().requires_grad_(True)
        dpo_loss(a, b, ref_c, ref_r, beta, loss_type="unweighted")[0].sum().backward()
        grads.append((a.grad, b.grad))
    torch.testing.assert_close(grads[0][0], torch.full_like(pc, -beta))
    torch.testing.assert_close(grads[0][1], torch.full_like(pr, beta))
    torch.testing.assert_close(grads[0], grads[1])
    a, b = pc.clone().requires_grad_(True), pr.clone().requires_grad_(True)
    losses, r_w, r_l = dpo_loss(a, b, rc, rr, beta)
    losses.sum().backward()
    torch.testing.assert_close(a.grad, -beta * gradient_weight(r_w, r_l))


def test_gradient_matches_paper_closed_form():
    # Paper, Sec. 4: grad L = -beta sigma(r_hat_l - r_hat_w) [grad log pi(y_w) - grad log pi(y_l)]
    pc, pr, rc, rr = logps(3, n=8)
    pc.requires_grad_(True)
    pr.requires_grad_(True)
    beta = 0.3
    losses, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta)
    losses.sum().backward()
    weight = torch.sigmoid(beta * ((pr - rr) - (pc - rc))).detach()
    torch.testing.assert_close(pc.grad, -beta * weight)
    torch.testing.assert_close(pr.grad, beta * weight)
    torch.testing.assert_close(gradient_weight(chosen, rejected), weight)


def test_implicit_rewards_and_logits():
    pc, pr, rc, rr = logps(4)
    c, r = implicit_rewards(pc, pr, rc, rr, 0.25)
    torch.testing.assert_close(c - r, 0.25 * dpo_logits(pc, pr, rc, rr))
    torch.testing.assert_close(dpo_logits(pc, pr, rc, rr, reference_free=True), pc - pr)


def test_reference_free_is_dpo_with_uniform_reference():
    pc, pr, rc, rr = logps(5)
    flat = torch.full_like(rc, -3.0)
    torch.testing.assert_close(dpo_loss(pc, pr, rc, rr, 0.1, reference_free=True)[0],
                               dpo_loss(pc, pr, flat, flat, 0.1)[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"beta": 0.0}, "beta"), ({"beta": -1.0}, "beta"), ({"beta": float("nan")}, "beta"),
    ({"label_smoothing": 0.5}, "label_smoothing"), ({"label_smoothing": -0.1}, "label_smoothing"),
    ({"loss_type": "kto"}, "loss_type"),
])
def test_bad_arguments_raise(kwargs, match):
    pc, pr, rc, rr = logps(6)
    with pytest.raises(ValueError, match=match):
        dpo_loss(pc, pr, rc, rr, **{"beta": 0.1, **kwargs})


def test_mismatched_shapes_raise():
    pc, pr, rc, rr = logps(7)
    with pytest.raises(ValueError, match="same shape"):
        dpo_loss(pc, pr[:-1], rc, rr)


def test_losses_agree_with_bce_on_logits():
    # A reward model view: DPO is binary cross-entropy with logit beta * h and label 1.
    pc, pr, rc, rr = logps(8)
    h = dpo_logits(pc, pr, rc, rr)
    bce = F.binary_cross_entropy_with_logits(0.7 * h, torch.ones_like(h), reduction="none")
    torch.testing.assert_close(dpo_loss(pc, pr, rc, rr, 0.7)[0], bce)


def test_reward_metrics_use_trl_names_and_one_prefix():
    w = torch.tensor([1.0, -2.0, 0.5])
    l = torch.tensor([0.0, -1.0, 0.5])
    m = reward_metrics(w, l)
    assert m == {"rewards/chosen": pytest.approx(-0.5 / 3), "rewards/rejected": pytest.approx(-0.5 / 3),
                 "rewards/margins": 0.0, "rewards/accuracies": pytest.approx(1 / 3)}  # ties lose
    pw, pl = torch.tensor([-3.0, -5.0, -4.0], requires_grad=True), torch.tensor([-6.0, -2.0, -1.0])
    e = reward_metrics(w, l, pw, pl, prefix="eval_")
    assert set(e) == {f"eval_{k}" for k in m} | {"eval_logps/chosen", "eval_logps/rejected"}
    assert e["eval_logps/chosen"] == -4.0 and e["eval_logps/rejected"] == -3.0
    assert all(isinstance(v, float) for v in e.values())
