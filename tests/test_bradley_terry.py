"""Bradley-Terry: probabilities, simulated reviewers and maximum-likelihood fits."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dpolab import bradley_terry as bt

PLANTED = np.array([2.0, -1.5, -0.5, -2.0, 0.5])


def test_preference_prob_closed_form():
    r_a, r_b = np.array([0.0, 1.0, -3.0]), np.array([0.0, 0.0, 2.0])
    np.testing.assert_allclose(bt.preference_prob(r_a, r_b),
                               np.exp(r_a) / (np.exp(r_a) + np.exp(r_b)))
    t = bt.preference_prob(torch.tensor(1.0), torch.tensor(0.0))
    assert isinstance(t, torch.Tensor) and abs(t.item() - 1 / (1 + np.exp(-1))) < 1e-7


def test_only_differences_matter():
    rng = np.random.default_rng(0)
    r_a, r_b = rng.normal(size=10), rng.normal(size=10)
    np.testing.assert_allclose(bt.preference_prob(r_a + 7, r_b + 7), bt.preference_prob(r_a, r_b))
    comps = bt.simulate_comparisons(PLANTED, 500, seed=1)
    assert bt.nll(PLANTED + 3.0, comps) == pytest.approx(bt.nll(PLANTED, comps), abs=1e-12)


def test_simulated_reviewers_follow_bt():
    comps = bt.simulate_comparisons([1.0, 0.0], 40_000, temperature=1.0, seed=2)
    assert np.all(comps[:, 0] != comps[:, 1])
    frac = np.mean(comps[:, 0] == 0)
    assert frac == pytest.approx(1 / (1 + np.exp(-1)), abs=0.01)
    hot = bt.simulate_comparisons([1.0, 0.0], 40_000, temperature=4.0, seed=2)
    assert np.mean(hot[:, 0] == 0) == pytest.approx(1 / (1 + np.exp(-0.25)), abs=0.01)


def test_zero_temperature_is_deterministic():
    comps = bt.simulate_comparisons(PLANTED, 300, temperature=0.0, seed=3)
    assert bt.accuracy(PLANTED, comps) == 1.0


def test_fit_recovers_planted_rewards_up_to_a_constant():
    comps = bt.simulate_comparisons(PLANTED, 20_000, seed=4)
    fit = bt.fit_rewards(comps, len(PLANTED))
    assert abs(fit.mean()) < 1e-12  # the gauge: mean zero
    np.testing.assert_allclose(fit, PLANTED - PLANTED.mean(), atol=0.1)
    # the fit is a stationary point of the NLL ...
    np.testing.assert_allclose(bt.nll_grad(fit, comps), 0.0, atol=1e-9)
    # ... shifting it changes nothing, and moving off it along a real direction costs likelihood
    assert bt.nll(fit + 5.0, comps) == pytest.approx(bt.nll(fit, comps), abs=1e-12)
    assert bt.nll(fit + np.array([0.1, 0, 0, 0, -0.1]), comps) > bt.nll(fit, comps)


def test_nll_grad_matches_autograd():
    comps = bt.simulate_comparisons(PLANTED, 200, seed=5)
    r = torch.tensor(PLANTED * 0.3, requires_grad=True)
    loss = -F.logsigmoid(r[comps[:, 0]] - r[comps[:, 1]]).mean()
    loss.backward()
    assert loss.item() == pytest.approx(bt.nll(PLANTED * 0.3, comps))
    np.testing.assert_allclose(bt.nll_grad(PLANTED * 0.3, comps), r.grad.numpy(), atol=1e-12)


def test_reward_model_is_a_classifier():
    comps = bt.simulate_comparisons(PLANTED, 1000, seed=6)
    logits = torch.tensor(bt.comparison_logits(PLANTED, comps))
    bce = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits)).item()
    assert bce == pytest.approx(bt.nll(PLANTED, comps))


def test_noise_shrinks_the_fit_toward_rewards_over_temperature():
    sweep = bt.noise_sweep(PLANTED, [1.0, 2.0, 4.0], n=4000, seed=7)
    # what a fit recovers is rewards / temperature
    np.testing.assert_allclose(sweep["fits"], sweep["targets"], atol=0.3)
    spread = sweep["fits"].std(axis=1)
    assert spread[0] > spread[1] > spread[2]
    assert sweep["agreement"][0] > sweep["agreement"][2]
    # the comparisons it returns are the ones drawn for each temperature (seed + index) and fitted
    assert sweep["comparisons"].shape == (3, 4000, 2)
    again = bt.simulate_comparisons(PLANTED, 4000, temperature=2.0, seed=8)
    np.testing.assert_array_equal(sweep["comparisons"][1], again)
    np.testing.assert_allclose(bt.fit_rewards(again, len(PLANTED), l2=1e-3), sweep["fits"][1])


def test_unseen_item_needs_a_prior():
    comps = bt.simulate_comparisons(PLANTED, 2000, seed=8, pair_probs=[1, 1, 1, 0, 1])
    with pytest.raises(ValueError, match=r"items \[3\] appear in no comparison"):
        bt.fit_rewards(comps, 5)
    fit = bt.fit_rewards(comps, 5, l2=1e-2)
    assert abs(fit[3] - fit.mean()) < 1e-9  # the prior pins it at the mean


def test_disconnected_groups_are_not_identifiable():
    comps = np.array([[0, 1], [1, 0], [0, 1], [2, 3], [3, 2], [2, 3]])
    with pytest.raises(ValueError, match="groups"):
        bt.fit_rewards(comps, 4)


def test_data_whose_maximum_is_at_infinity_is_named():
    """Two items compared three times, one winning every time: no finite maximum (Zermelo); the
    same with one win each way has the closed form r_0 - r_1 = log 2 (p = 2/3)."""
    with pytest.raises(ValueError, match=r"items \[0\] never lost; items \[1\] never won.*pass l2 > 0"):
        bt.fit_rewards(np.array([[0, 1]] * 3), 2)
    with pytest.raises(ValueError, match="maximum is at infinity"):           # a cycle, then a top item
        bt.fit_rewards(np.array([[0, 1], [1, 0], [2, 0]]), 3)
    fit = bt.fit_rewards(np.array([[0, 1], [1, 0], [0, 1]]), 2)
    np.testing.assert_allclose(fit, [np.log(2) / 2, -np.log(2) / 2])
    separable = bt.simulate_comparisons(PLANTED, 500, seed=0, temperature=0)
    assert np.isfinite(bt.fit_rewards(separable, len(PLANTED), l2=1e-3)).all()


def test_bad_input():
    with pytest.raises(ValueError, match=r"numbered 0 to 2 \(n_items=3\).*items 0 to 5"):
        bt.fit_rewards(np.array([[0, 5], [5, 0]]), 3)
    with pytest.raises(ValueError, match="l2 must be a number >= 0, got -1"):
        bt.fit_rewards(np.array([[0, 1], [1, 0]]), 2, l2=-1)
    with pytest.raises(ValueError):
        bt.fit_rewards(np.zeros((0, 2), dtype=int), 3)
    with pytest.raises(ValueError):
        bt.simulate_comparisons(PLANTED, 10, temperature=-1)
