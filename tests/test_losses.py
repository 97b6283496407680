"""dpo_loss and friends against closed forms and properties, not against themselves."""

import math
import re

import pytest
import torch
import torch.nn.functional as F

from dpolab.losses import (LOSS_TYPES, dpo_loss, dpo_logits, gradient_weight, implicit_rewards,
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
    ({"beta": float("inf")}, "beta must be a finite number"),
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


# ---------------------------------------------------------------------------------------------
# Length-normalized DPO (`sigmoid_norm`), robust DPO, SimPO


def lengths(seed, n=32):
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(1, 40, (n,), generator=g) for _ in range(2)]


def test_new_losses_closed_forms():
    t = lambda *v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    # h_w = -4 - (-6) = 2 over 2 tokens, h_l = -9 - (-6) = -3 over 3: per-token margin 1 - (-1) = 2
    pc, pr, rc, rr, lc, lr = t(-4.0), t(-9.0), t(-6.0), t(-6.0), t(2.0), t(3.0)
    norm = dpo_loss(pc, pr, rc, rr, 0.5, "sigmoid_norm", chosen_lengths=lc, rejected_lengths=lr)[0]
    assert norm.item() == pytest.approx(math.log1p(math.exp(-0.5 * 2)))
    # robust on the summed h = 2 - (-3) = 5, beta 0.2, eps 0.2:
    # ((1 - eps) log(1 + e^{-beta h}) - eps log(1 + e^{beta h})) / (1 - 2 eps), negative here
    robust = dpo_loss(pc, pr, rc, rr, 0.2, "robust", label_smoothing=0.2)[0]
    assert robust.item() == pytest.approx((0.8 * math.log1p(math.exp(-1)) - 0.2 * math.log1p(math.e)) / 0.6)
    # SimPO ignores rc, rr: log pi per token -4/2 - (-9/3) = 1; beta 2, gamma 0.5: -log sigma(2 - 0.5)
    simpo = dpo_loss(pc, pr, rc, rr, 2.0, "simpo", chosen_lengths=lc, rejected_lengths=lr)[0]
    assert simpo.item() == pytest.approx(math.log1p(math.exp(-1.5)))


def test_sigmoid_norm_is_sigmoid_at_length_one_and_invariant_to_splitting_a_reply():
    pc, pr, rc, rr = logps(10)
    lc, lr = lengths(10)
    one = torch.ones_like(lc)
    norm = lambda *a, **k: dpo_loss(*a, 0.3, "sigmoid_norm", **k)[0]  # noqa: E731
    torch.testing.assert_close(norm(pc, pr, rc, rr, chosen_lengths=one, rejected_lengths=one),
                               dpo_loss(pc, pr, rc, rr, 0.3)[0])
    # the same log-ratio per token over k times the tokens: h and |y| scaled together
    k_w, k_l = torch.randint(2, 5, (2, len(pc)), generator=torch.Generator().manual_seed(1))
    pc_split, pr_split = rc + k_w * (pc - rc), rr + k_l * (pr - rr)
    torch.testing.assert_close(norm(pc_split, pr_split, rc, rr, chosen_lengths=k_w * lc,
                                    rejected_lengths=k_l * lr),
                               norm(pc, pr, rc, rr, chosen_lengths=lc, rejected_lengths=lr))
    assert not torch.allclose(dpo_loss(pc_split, pr_split, rc, rr, 0.3)[0],
                              dpo_loss(pc, pr, rc, rr, 0.3)[0])  # the summed DPO loss is not


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.25, 0.45])
def test_robust_is_unbiased_under_label_flips(eps):
    # a label flipped w.p. eps swaps y_w and y_l (h -> -h); the expected loss is the clean one
    pc, pr, rc, rr = logps(11)
    robust = dpo_loss(pc, pr, rc, rr, 0.4, "robust", label_smoothing=eps)[0]
    flipped = dpo_loss(pr, pc, rr, rc, 0.4, "robust", label_smoothing=eps)[0]
    h = (pc - pr) - (rc - rr)
    torch.testing.assert_close((1 - eps) * robust + eps * flipped, torch.log1p(torch.exp(-0.4 * h)))


def test_simpo_ignores_the_reference_and_at_gamma_0_is_reference_free_sigmoid_norm():
    pc, pr, rc, rr = logps(12)
    lc, lr = lengths(12)
    kw = dict(chosen_lengths=lc, rejected_lengths=lr)
    simpo = dpo_loss(pc, pr, rc, rr, 2.5, "simpo", **kw)[0]
    torch.testing.assert_close(dpo_loss(pc, pr, rr, rc * 3, 2.5, "simpo", **kw)[0], simpo)
    torch.testing.assert_close(
        dpo_loss(pc, pr, rc, rr, 2.5, "simpo", simpo_gamma=0.0, **kw)[0],
        dpo_loss(pc, pr, rc, rr, 2.5, "sigmoid_norm", reference_free=True, **kw)[0])
    assert torch.all(simpo > dpo_loss(pc, pr, rc, rr, 2.5, "simpo", simpo_gamma=0.0, **kw)[0])


@pytest.mark.parametrize("loss_type, eps", [("robust", 0.0), ("robust", 0.3), ("sigmoid_norm", 0.0),
                                           ("simpo", 0.0)])
def test_raising_the_chosen_reply_lowers_the_loss(loss_type, eps):
    # (robust for any eps; label smoothing on the others pushes back once the margin is large)
    pc, pr, rc, rr = logps(13, n=16)
    lc, lr = lengths(13, n=16)
    a, b = pc.clone().requires_grad_(True), pr.clone().requires_grad_(True)
    losses, r_w, r_l = dpo_loss(a, b, rc, rr, 0.5, loss_type, label_smoothing=eps,
                                chosen_lengths=lc, rejected_lengths=lr)
    losses.sum().backward()
    assert torch.all(a.grad < 0) and torch.all(b.grad > 0)
    # the reported rewards are DPO's implicit rewards whatever the loss
    torch.testing.assert_close((r_w, r_l), implicit_rewards(pc, pr, rc, rr, 0.5))


@pytest.mark.parametrize("loss_type", [t for t in LOSS_TYPES if t not in ("sigmoid_norm", "simpo")])
def test_lengths_do_not_change_the_other_losses(loss_type):
    pc, pr, rc, rr = logps(14)
    lc, lr = lengths(14)
    plain = dpo_loss(pc, pr, rc, rr, 0.2, loss_type, label_smoothing=0.1)[0]
    assert torch.equal(dpo_loss(pc, pr, rc, rr, 0.2, loss_type, label_smoothing=0.1,
                                chosen_lengths=lc, rejected_lengths=lr)[0], plain)


@pytest.mark.parametrize("loss_type", ["sigmoid_norm", "simpo"])
@pytest.mark.parametrize("chosen, rejected, match", [
    (None, None, "pass chosen_lengths and rejected_lengths"),
    ("ok", None, "pass chosen_lengths and rejected_lengths"),
    ("ok", "one_empty", "rejected_lengths has 0"),
    ("negative", "ok", "chosen_lengths has -2"),
    ("nan", "ok", "chosen_lengths has nan"),
])
def test_missing_or_empty_lengths_raise_naming_the_loss_type(loss_type, chosen, rejected, match):
    pc, pr, rc, rr = logps(15)
    ok = torch.full((32,), 5)
    value = {None: None, "ok": ok, "one_empty": ok.index_fill(0, torch.tensor([3]), 0),
             "negative": torch.full((32,), -2), "nan": torch.full((32,), float("nan"))}
    with pytest.raises(ValueError, match=f"loss_type '{loss_type}'.*{match}"):
        dpo_loss(pc, pr, rc, rr, 0.1, loss_type, chosen_lengths=value[chosen],
                 rejected_lengths=value[rejected])
    with pytest.raises(ValueError, match=re.escape("chosen_lengths must have the log-probs' shape (32,)")):
        dpo_loss(pc, pr, rc, rr, 0.1, loss_type, chosen_lengths=ok[:-1], rejected_lengths=ok)


@pytest.mark.parametrize("gamma", [-0.1, float("inf"), float("nan")])
def test_bad_simpo_gamma_raises(gamma):
    pc, pr, rc, rr = logps(16)
    with pytest.raises(ValueError, match="simpo_gamma must be finite and >= 0"):
        dpo_loss(pc, pr, rc, rr, loss_type="simpo", simpo_gamma=gamma)
