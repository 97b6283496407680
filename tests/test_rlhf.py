"""RLHF in miniature (dpolab.rlhf): RLOO's formulas by hand and against TRL's RLOOTrainer, the
tabular learner against Eq. 4's closed-form optimum, and RL on a tiny GPT-2 against a reward model."""

import numpy as np
import pytest
import torch

from dpolab import bandit, rlhf, tabular
from dpolab import bradley_terry as bt
from dpolab import model as M
from dpolab.data import collate_sft, format_prompt
from dpolab.logprobs import sequence_logps


def test_rloo_advantages_by_hand():
    r = torch.tensor([[1.0, 2.0, 6.0], [0.0, 0.0, 0.0]])
    want = torch.tensor([[1 - 4.0, 2 - 3.5, 6 - 1.5], [0.0, 0.0, 0.0]])
    assert torch.allclose(rlhf.rloo_advantages(r), want)
    assert torch.allclose(rlhf.rloo_advantages(r).sum(1), torch.tensor([-1.5 + -1.5 + 4.5 - 1.5, 0.0]))
    with pytest.raises(ValueError, match="samples >= 2"):
        rlhf.rloo_advantages(torch.zeros(3, 1))


def test_rloo_loss_is_the_policy_gradient_when_old_is_current():
    logits = torch.randn(5, requires_grad=True)
    logps = torch.log_softmax(logits, 0)
    adv = torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0])
    rlhf.rloo_loss(logps, logps.detach(), adv).backward()
    want = torch.autograd.grad(-(adv * torch.log_softmax(logits, 0)).mean(), logits)[0]
    assert torch.allclose(logits.grad, want)
    # A ratio far above 1 + eps with a positive advantage is clipped: no gradient through it.
    lp = torch.tensor([1.0], requires_grad=True)
    rlhf.rloo_loss(lp, torch.tensor([0.0]), torch.tensor([1.0])).backward()
    assert lp.grad.item() == 0.0


def test_tabular_rlhf_and_dpo_reach_the_optimum_of_the_fitted_reward():
    """The paper's claim in miniature: fit a Bradley-Terry reward to sampled comparisons and
    maximise Eq. 3 by RL, or run DPO on the same comparisons: both reach Eq. 4 for that reward."""
    world, beta, n = bandit.clinic_bandit(), 0.5, 400
    data = bandit.sample_pairs(world, n, seed=0)
    fitted = np.stack([bt.fit_rewards(np.stack([data["chosen"][data["prompt"] == p],
                                                data["rejected"][data["prompt"] == p]], 1),
                                      world.shape[1], l2=1e-3) for p in range(world.shape[0])])
    target = bandit.optimal_policy(world.reference_probs, fitted, beta)
    exact = rlhf.tabular_rlhf(world.reference_probs, fitted, beta, samples=None)
    sampled = rlhf.tabular_rlhf(world.reference_probs, fitted, beta, samples=8, seed=1)
    dpo = tabular.train_tabular(world, beta, mode="sampled", n_pairs=n, batch_size=2 * n,
                               steps=1500, lr=0.05, seed=0)
    assert bandit.total_variation(exact["probs"][-1], target) < 1e-3
    assert bandit.total_variation(sampled["probs"][-1], target) < 3e-3
    assert bandit.total_variation(dpo.policy, target) < 3e-3
    assert bandit.total_variation(world.reference_probs, target) > 0.3   # it had far to go


@pytest.fixture(scope="module")
def tiny(tiny_lm_dir):
    return M.load_model(tiny_lm_dir), M.load_tokenizer(tiny_lm_dir)


def _fixed_batch(tok, n_prompts=2, k=4, length=6, seed=0):
    """Equal-length prompts and completions (no padding anywhere, so any padding convention agrees)."""
    g = torch.Generator().manual_seed(seed)
    prompt = tok(format_prompt("Can I move my MRI to Friday?"))["input_ids"]
    prompts = [prompt] * (n_prompts * k)
    completions = torch.randint(5, 500, (n_prompts * k, length), generator=g).tolist()
    return prompts, completions


def test_rloo_matches_trl(tiny, tiny_lm_dir, tmp_path):
    """Advantages (reward - beta * summed log-ratio, leave-one-out baseline) and loss, to 1e-5."""
    pytest.importorskip("trl")
    from datasets import Dataset
    from trl import RLOOConfig, RLOOTrainer

    model, tok = tiny
    prompts, completions = _fixed_batch(tok)
    scores = [0.3, -1.0, 2.0, 0.5, 1.5, 1.5, -0.2, 0.0]
    args = RLOOConfig(output_dir=str(tmp_path), beta=0.1, num_generations=4, per_device_train_batch_size=8,
                      max_completion_length=6, bf16=False, use_cpu=True, report_to="none",
                      normalize_advantages=False, disable_dropout=True)
    trainer = RLOOTrainer(model=str(tiny_lm_dir), reward_funcs=lambda completions, **kw: scores, args=args,
                          train_dataset=Dataset.from_list([{"prompt": "x"}] * 8), processing_class=tok)
    with torch.no_grad():   # move the policy off the reference, so the KL term is not zero
        for p in trainer.model.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    texts = [tok.decode(c) for c in completions]
    trainer._generate = lambda _: (prompts, completions, texts)
    trainer.model.eval()
    out = trainer._generate_and_score_completions([{"prompt": "x"}] * 8)

    policy = M.load_model(tiny_lm_dir)
    policy.load_state_dict(trainer.model.state_dict())
    batch = collate_sft([{"prompt_ids": p, "completion_ids": c} for p, c in zip(prompts, completions)],
                        tok.pad_token_id)
    with torch.no_grad():
        ours_pi = sequence_logps(policy.eval(), batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
        ours_ref = sequence_logps(model.eval(), batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    reward = torch.tensor(scores) - 0.1 * (ours_pi - ours_ref)
    adv = rlhf.rloo_advantages(reward.view(2, 4)).view(-1)
    assert torch.allclose(out["old_logps"], ours_pi, atol=1e-5)
    assert torch.allclose(out["advantages"], adv, atol=1e-5)
    trl_loss = trainer._compute_loss(trainer.model, out)
    logps = sequence_logps(policy, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    assert rlhf.rloo_loss(logps, ours_pi, adv).item() == pytest.approx(trl_loss.item(), abs=1e-5)


def test_one_rloo_step_on_a_tiny_gpt2_ascends_the_reward(tiny, tiny_lm_dir):
    """One plain gradient step on the RLOO loss raises the policy's expected reward, estimated on
    the step's own replies with importance weights pi_new / pi_old: to first order the change is
    sum_i A_i * dlog pi_i, a squared gradient norm. (Whether a whole run raises the reward model's
    score on held-out prompts is asserted on the series' GPT-2 in notebook 11; a tiny untrained
    model's per-step means are too noisy to show it.)"""
    from dpolab.rewardmodel import reward_model_from, score

    reference, tok = tiny
    policy = M.load_model(tiny_lm_dir).eval()
    rm = reward_model_from(reference, seed=1).eval()
    texts = [f"Can I move my visit to day {i}?" for i in range(8) for _ in range(4)]
    replies, _, batch = rlhf.rollout(policy, tok, texts, 16, 1.0, torch.Generator().manual_seed(0), keep=64)
    with torch.no_grad():
        reward = score(rm, tok, texts, replies).view(8, 4)
    adv = rlhf.rloo_advantages(reward).view(-1)
    assert adv.abs().max() > 0
    logps = sequence_logps(policy, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    rlhf.rloo_loss(logps, logps.detach(), adv).backward()
    torch.optim.SGD(policy.parameters(), lr=0.05).step()
    with torch.no_grad():
        new = sequence_logps(policy, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    w = torch.exp(new - logps.detach()).view(8, 4)
    before, after = reward.mean(1), (w * reward).sum(1) / w.sum(1)   # per prompt
    assert not torch.allclose(new, logps.detach())
    assert (after - before).mean() > 0
    assert float((adv * (new - logps.detach())).sum()) > 0            # up where A > 0, down where A < 0


def test_rl_on_a_tiny_gpt2_the_kl_coefficient_tethers(tiny, tiny_lm_dir):
    """A tiny GPT-2 and a reward model with a random (scaled-up) head: a large KL coefficient keeps
    the policy nearer the reference than no coefficient at all. (Notebook 11 checks the same on the
    series' model and reward model, on held-out prompts.)"""
    from dpolab.rewardmodel import reward_model_from

    reference, tok = tiny
    rm = reward_model_from(reference, seed=1).eval()
    with torch.no_grad():
        rm.score.weight.mul_(100.0)   # at init a random head scores every reply about alike
    prompts = [("reschedule", f"Can I move my visit to day {i}?") for i in range(40)]
    runs = {}
    for kl_coef in (0.0, 2.0):
        cfg = rlhf.RLConfig(kl_coef=kl_coef, lr=1e-2, steps=20, prompts_per_step=8,
                            samples_per_prompt=4, max_new_tokens=16)
        runs[kl_coef] = rlhf.train_rloo(M.load_model(tiny_lm_dir), reference, rm, tok, prompts, cfg,
                                        progress=False)
    free = runs[0.0]
    assert len(free) == 20 and all(h["replies"] == 32 for h in free)
    late_kl = {c: np.mean([h["kl"] for h in h_[-5:]]) for c, h_ in runs.items()}
    assert late_kl[2.0] < 0.5 * late_kl[0.0]   # measured: 4.9 against 15.8
    with pytest.raises(ValueError, match="sibling"):
        rlhf.RLConfig(samples_per_prompt=1)


def test_rl_anchor_is_dpo_recipes_nll_and_pulls_toward_the_chosen_replies(tiny, tiny_lm_dir):
    """`anchor_nll` is the chosen reply's mean NLL per token, computed here by hand from the logits;
    an RL run with `sft_coef` ends with a lower NLL on those replies than the same run without it,
    and samples the same RL prompts (the anchor draws its pairs with its own generator)."""
    from dpolab import data
    from dpolab.rewardmodel import reward_model_from

    reference, tok = tiny
    rows = [{"prompt": r["prompt"], "chosen": r["chosen"]} for r in data.train_pairs().select(range(24))]
    policy = M.load_model(tiny_lm_dir).eval()
    by_hand = []
    for r in rows[:3]:
        p = tok(data.format_prompt(r["prompt"], tok))["input_ids"]
        c = tok(r["chosen"])["input_ids"] + [tok.eos_token_id]
        with torch.no_grad():
            logits = policy(torch.tensor([p + c])).logits[0, len(p) - 1:-1]
        by_hand.append(-torch.log_softmax(logits, -1)[torch.arange(len(c)), torch.tensor(c)].mean())
    with torch.no_grad():
        assert rlhf.anchor_nll(policy, tok, rows[:3]).item() == pytest.approx(torch.stack(by_hand).mean().item(), abs=1e-5)

    rm = reward_model_from(reference, seed=1).eval()
    prompts = [("reschedule", f"Can I move my visit to day {i}?") for i in range(40)]
    runs, first = {}, {}
    for sft_coef in (0.0, 4.0):
        cfg = rlhf.RLConfig(kl_coef=0.1, lr=1e-2, steps=8, prompts_per_step=8, samples_per_prompt=2,
                            max_new_tokens=12, sft_coef=sft_coef)
        model = M.load_model(tiny_lm_dir)
        hist = rlhf.train_rloo(model, reference, rm, tok, prompts, cfg, anchor_rows=rows, progress=False)
        first[sft_coef] = (hist[0]["reward"], hist[0]["kl"])   # step 1 samples before any update
        with torch.no_grad():
            runs[sft_coef] = rlhf.anchor_nll(model.eval(), tok, rows).item()
        assert ("nll" in hist[-1]) == (sft_coef > 0)
    assert first[4.0] == first[0.0]      # the same prompts and replies at step 1
    assert runs[4.0] < runs[0.0] - 0.5   # the anchor's pull on the chosen replies' NLL (measured 5.1 vs 6.4)
    with pytest.raises(ValueError, match="anchor_rows"):
        rlhf.train_rloo(policy, reference, rm, tok, prompts, rlhf.RLConfig(sft_coef=1.0), progress=False)
    with pytest.raises(ValueError, match="sft_coef"):
        rlhf.RLConfig(sft_coef=-1.0)
