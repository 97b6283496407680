"""The finite-response toy: the exact optimum (Eq. 4) and tabular DPO / IPO converging to it."""

import numpy as np
import pytest
from scipy.optimize import minimize

from dpolab import bandit as B
from dpolab import tabular as T

BANDIT = B.clinic_bandit()
REF, R = BANDIT.reference_probs, BANDIT.rewards


def test_clinic_world_is_well_formed():
    assert BANDIT.shape == (2, 5)
    np.testing.assert_allclose(REF.sum(-1), 1.0)
    assert BANDIT.labels[np.argmax(R[0])] == "safe"
    poor = B.clinic_bandit("poor")
    assert poor.reference_probs[0, 0] < 0.05
    with pytest.raises(ValueError):
        B.clinic_bandit("excellent")


@pytest.mark.parametrize("beta", [0.05, 0.3, 1.0, 10.0])
def test_optimal_policy_maximizes_the_tethered_objective(beta):
    # Independent check: maximize E[r] - beta KL numerically over the simplex (softmax logits).
    pi = B.optimal_policy(REF[0], R[0], beta)
    assert pi.sum() == pytest.approx(1.0)

    def neg_objective(z):
        p = np.exp(z - z.max())
        p /= p.sum()
        return -(p @ R[0] - beta * B.kl(p, REF[0]))

    best = minimize(neg_objective, np.zeros(5), method="BFGS", options={"gtol": 1e-10})
    assert -best.fun == pytest.approx(-neg_objective(np.log(pi)), abs=1e-6)
    assert -best.fun <= -neg_objective(np.log(pi)) + 1e-9


def test_optimal_policy_limits():
    np.testing.assert_allclose(B.optimal_policy(REF, R, 1e6), REF, atol=1e-5)
    sharp = B.optimal_policy(REF, R, 1e-3)
    np.testing.assert_allclose(sharp, np.eye(5)[np.argmax(R, axis=-1)], atol=1e-9)
    assert np.all(np.isfinite(B.optimal_policy(REF, R, 1e-6)))


def test_frontier_is_monotone_in_beta():
    f = B.frontier(REF, R, np.logspace(-2, 1, 40))
    # (for the smallest betas the optimum is already the argmax: flat up to rounding)
    assert np.all(np.diff(f["kl"]) <= 1e-12), "larger beta = tighter tether = smaller KL"
    assert np.all(np.diff(f["reward"]) <= 1e-12)
    assert f["kl"][0] > f["kl"][-1] + 0.5 and f["reward"][0] > f["reward"][-1] + 0.5
    mid = B.frontier(REF, R, np.logspace(-0.5, 1, 20))
    assert np.all(np.diff(mid["kl"]) < 0) and np.all(np.diff(mid["reward"]) < 0)


def test_change_of_variables_eq5():
    beta = 0.4
    pi = B.optimal_policy(REF, R, beta)
    log_z = B.log_partition(REF, R, beta)
    np.testing.assert_allclose(beta * np.log(pi / REF) + beta * log_z[:, None], R, atol=1e-12)


def test_pair_table_probabilities():
    t = B.pair_table(BANDIT, "reference")
    np.testing.assert_allclose(np.bincount(t["prompt"], weights=t["weight"]), 1.0)
    k = 0  # pair (0, 1) of prompt 0: 2 mu_0 mu_1 / (1 - sum mu^2)
    assert t["weight"][k] == pytest.approx(2 * REF[0, 0] * REF[0, 1] / (1 - np.sum(REF[0] ** 2)))
    assert t["p_i"][k] == pytest.approx(1 / (1 + np.exp(-(R[0, 0] - R[0, 1]))))
    hard = B.pair_table(BANDIT, "uniform", temperature=0)
    assert set(np.unique(hard["p_i"])) <= {0.0, 0.5, 1.0}


@pytest.mark.parametrize("beta, sampler", [(0.5, "reference"), (1.0, "uniform"), (0.2, "reference")])
def test_exact_tabular_dpo_converges_to_the_optimum(beta, sampler):
    res = T.train_tabular(BANDIT, beta, mode="exact", steps=1500, lr=0.1, sampler=sampler)
    assert res.loss[0] == pytest.approx(np.log(2))  # starts at the reference
    assert B.total_variation(res.policy, B.optimal_policy(REF, R, beta)) < 1e-3
    # the implicit reward equals the true reward up to a per-prompt constant (beta log Z)
    r_hat = B.implicit_reward(res.policy, REF, beta)
    gap = r_hat - R
    np.testing.assert_allclose(gap - gap.mean(-1, keepdims=True), 0.0, atol=1e-2)


def test_sampled_tabular_dpo_is_close_to_the_optimum():
    # 4,000 labelled pairs per prompt, minibatches of 256: sampling and SGD noise remain.
    res = T.train_tabular(BANDIT, 0.5, mode="sampled", steps=1500, lr=0.05, n_pairs=4000, seed=0)
    assert B.total_variation(res.policy, B.optimal_policy(REF, R, 0.5)) < 0.05


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_ipo_converges_to_its_own_optimum(beta):
    res = T.train_tabular(BANDIT, beta, loss_type="ipo", steps=2500, lr=0.05)
    want = B.ipo_optimal_policy(BANDIT, beta)
    assert B.total_variation(res.policy, want) < 1e-3
    # fixed-point condition: the weighted least-squares residuals are orthogonal to every h
    t = B.pair_table(BANDIT)
    h = np.log(want / REF)
    resid = (h[t["prompt"], t["i"]] - h[t["prompt"], t["j"]]) - (2 * t["p_i"] - 1) / (2 * beta)
    grad = np.zeros_like(h)
    np.add.at(grad, (t["prompt"], t["i"]), t["weight"] * resid)
    np.add.at(grad, (t["prompt"], t["j"]), -t["weight"] * resid)
    np.testing.assert_allclose(grad, 0.0, atol=1e-10)
    # and it is not the DPO optimum
    assert B.total_variation(want, B.optimal_policy(REF, R, beta)) > 0.01


def test_two_reply_margins_deterministic_preferences():
    two = BANDIT.subset([0, 1], prompts=[0])
    beta = 0.5
    ipo = T.train_tabular(two, beta, loss_type="ipo", temperature=0, steps=1500, lr=0.05)
    assert ipo.margin[-1] == pytest.approx(1 / (2 * beta), abs=1e-3)  # finite target
    eps = 0.1
    cdpo = T.train_tabular(two, beta, label_smoothing=eps, temperature=0, steps=1500, lr=0.05)
    assert cdpo.margin[-1] == pytest.approx(np.log((1 - eps) / eps) / beta, abs=1e-2)
    dpo = T.train_tabular(two, beta, temperature=0, steps=1500, lr=0.05)
    assert dpo.margin[-1] > 2 * cdpo.margin[-1] and dpo.margin[-1] > dpo.margin[-50] + 0.1  # growing


def test_unweighted_loss_runs_off_while_dpo_settles():
    unweighted = T.train_tabular(BANDIT, 0.5, loss_type="unweighted", steps=1000, lr=0.05)
    dpo = T.train_tabular(BANDIT, 0.5, steps=1000, lr=0.05)
    mid = len(unweighted.margin) // 2
    # its gradient never fades (no sigma weight): the margin grows linearly, without bound
    assert unweighted.margin[-1] > 1.9 * unweighted.margin[mid] > 10 * dpo.margin[-1]
    assert abs(dpo.margin[-1] - dpo.margin[mid]) < 1e-3
    assert np.max(np.abs(unweighted.logits)) > 5 * np.max(np.abs(dpo.logits))
    # and where it ends up is not where the reward is: lower expected reward than DPO's
    assert np.mean(B.expected_reward(unweighted.policy, R)) < np.mean(B.expected_reward(dpo.policy, R))


def test_bad_arguments():
    with pytest.raises(ValueError):
        B.optimal_policy(REF, R, 0.0)
    with pytest.raises(ValueError):
        T.train_tabular(BANDIT, 0.5, mode="online")
    with pytest.raises(ValueError):
        B.pair_table(BANDIT, "policy")
    for beta in (0.0, -1.0):
        with pytest.raises(ValueError, match="beta must be > 0"):
            B.ipo_optimal_policy(BANDIT, beta)
        with pytest.raises(ValueError, match="beta must be > 0"):
            B.log_partition(REF, R, beta)
    for temperature in (-1.0, float("nan")):   # a label noise knob: 0 (no noise) and up
        with pytest.raises(ValueError, match="temperature must be a number >= 0"):
            T.train_tabular(BANDIT, 0.5, temperature=temperature, steps=1)
    with pytest.raises(ValueError, match="record_every must be >= 1, got 0"):
        T.train_tabular(BANDIT, 0.5, record_every=0, steps=1)
    with pytest.raises(ValueError, match="n_pairs must be >= 1, got 0"):
        T.train_tabular(BANDIT, 0.5, mode="sampled", n_pairs=0, steps=1)
    with pytest.raises(ValueError, match="'simpo' divides by reply lengths"):
        T.train_tabular(BANDIT, 0.5, loss_type="simpo", steps=1)


def test_a_reply_the_reference_never_writes():
    """pi_ref = 0 leaves the log-ratio undefined: training refuses it by name, where it would
    have returned NaN; Eq. 4's optimum keeps that reply at 0. A one-reply sampler has no pairs."""
    ref = BANDIT.reference_probs.copy()
    ref[0] = [0.5, 0.5] + [0.0] * (ref.shape[1] - 2)
    zero = B.Bandit(BANDIT.prompts, BANDIT.labels, BANDIT.replies, BANDIT.rewards, ref)
    with pytest.raises(ValueError, match="reply 2 of prompt 0 probability 0"):
        T.train_tabular(zero, 0.5, steps=1)
    best = B.optimal_policy(ref, BANDIT.rewards, 0.5)
    assert np.isfinite(best).all() and (best[0, 2:] == 0).all()
    ref[0] = [1.0] + [0.0] * (ref.shape[1] - 1)
    one = B.Bandit(BANDIT.prompts, BANDIT.labels, BANDIT.replies, BANDIT.rewards, ref)
    with pytest.raises(ValueError, match="gives prompt 0 only one reply"):
        B.pair_table(one)


def test_margin_is_the_mean_over_pairs_and_prompts_not_their_sum():
    """The recorded margin, recomputed by hand from the final policy: each prompt's pairs weighted
    by their chance of being drawn (summing to 1 per prompt), then the prompts averaged."""
    res = T.train_tabular(BANDIT, 0.5, steps=200, lr=0.05)
    assert BANDIT.shape[0] > 1  # a sum over prompts would differ from their mean
    h = np.log(res.probs[-1]) - np.log(BANDIT.reference_probs)
    table = B.pair_table(BANDIT)
    per_prompt = np.zeros(BANDIT.shape[0])
    for p, i, j, w in zip(table["prompt"], table["i"], table["j"], table["weight"]):
        better, worse = (i, j) if BANDIT.rewards[p, i] >= BANDIT.rewards[p, j] else (j, i)
        per_prompt[p] += w * (h[p, better] - h[p, worse])
    assert res.margin[-1] == pytest.approx(per_prompt.mean(), rel=1e-6)


def test_a_cached_tabular_run_is_the_run_and_trains_once(tmp_path, monkeypatch):
    monkeypatch.setenv("DPOLAB_CACHE", str(tmp_path))
    kw = dict(mode="sampled", steps=120, n_pairs=300, batch_size=32, seed=3, record_every=7)
    fresh = T.train_tabular(BANDIT, 0.5, **kw)
    first, again = (T.train_tabular(BANDIT, 0.5, cache=True, **kw) for _ in range(2))
    assert len(list((tmp_path / "tabular").iterdir())) == 1            # built once, then read
    for run in (first, again):
        for name in ("steps", "probs", "loss", "margin", "logits"):
            a, b = getattr(run, name), getattr(fresh, name)
            assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name
        assert run.beta == fresh.beta
    other_world = BANDIT.subset([0, 1, 2])
    T.train_tabular(other_world, 0.5, cache=True, **kw)                # another world: another entry
    T.train_tabular(BANDIT, 1.0, cache=True, **kw)                     # another beta: another entry
    assert len(list((tmp_path / "tabular").iterdir())) == 3
