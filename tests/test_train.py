"""Trainers: metrics, reference computed once, NaN guard, atomic checkpoints, resume, seeds."""

import json
import math

import pytest
import torch

from dpolab import data
from dpolab import logprobs as L
from dpolab import model as M
from dpolab import loop
from dpolab import rewardmodel as RM
from dpolab import train as T

TRL_NAMES = ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies",
             "logps/chosen", "logps/rejected")


@pytest.fixture(scope="module")
def tok():
    return M.train_tokenizer(M.corpus_texts(data.sft_corpus().select(range(600))), vocab_size=512)


@pytest.fixture(scope="module")
def pairs():
    return data.train_pairs().select(range(48)).to_list()


@pytest.fixture(scope="module")
def held_out():
    return data.test_pairs().select(range(16)).to_list()


def small(tok, seed=0):
    return M.new_model(tok, M.preset("gpt-tiny", n_layer=2, n_head=2, n_embd=64, n_positions=256), seed=seed)


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def assert_same(a, b, atol=0.0):
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=atol, rtol=0, msg=k)


CFG = dict(batch_size=8, epochs=1, warmup_steps=2, lr=1e-3)


def dpo_cfg(**kw):
    """Plain DPO (no RPO term) unless a test asks for one."""
    return T.DPOConfig(**{**CFG, "rpo_alpha": 0.0, **kw})


def test_rpo_adds_the_chosen_replies_nll_per_token(tok, pairs):
    """At step 1 (policy = reference) the DPO part is log 2; the rest is alpha x the mean over the
    batch of each chosen reply's NLL per token, computed here one reply at a time."""
    from dpolab.logprobs import response_logps

    batch = pairs.select(range(8)) if hasattr(pairs, "select") else pairs[:8]  # one batch of 8
    h = T.train_dpo(small(tok), small(tok), tok, batch, dpo_cfg(rpo_alpha=2.0), progress=False)
    fresh = small(tok).eval()
    nll = []
    for r in batch:
        tokens = response_logps(fresh, tok, [r["prompt"]], [r["chosen"]], per_token=True)[0]
        nll.append(-sum(lp for _, lp in tokens) / len(tokens))     # EOS counted, prompt masked
    step1 = next(r for r in h if r["step"] == 1)
    assert step1["nll_loss"] == pytest.approx(sum(nll) / len(nll), rel=1e-5)
    assert step1["loss"] == pytest.approx(math.log(2) + 2.0 * step1["nll_loss"], abs=1e-5)


def test_rpo_trains_only_on_the_anchored_pairs_chosen_replies(tok, pairs):
    """`anchored` picks the pairs whose chosen reply the NLL term averages over (here the odd
    ones, computed one reply at a time); all False is plain DPO, all True the default."""
    from dpolab.logprobs import response_logps

    batch = pairs[:8]
    fresh = small(tok).eval()
    nll = [-sum(lp for _, lp in t) / len(t) for t in
           (response_logps(fresh, tok, [r["prompt"]], [r["chosen"]], per_token=True)[0] for r in batch)]
    marks = [i % 2 == 1 for i in range(8)]
    step1 = {}
    for name, anchored in (("odd", marks), ("none", [False] * 8), ("all", [True] * 8), ("default", None)):
        h = T.train_dpo(small(tok), small(tok), tok, batch, dpo_cfg(rpo_alpha=2.0), progress=False,
                        anchored=anchored)
        step1[name] = next(r for r in h if r["step"] == 1)
    odd = [v for v, m in zip(nll, marks) if m]
    assert step1["odd"]["nll_loss"] == pytest.approx(sum(odd) / len(odd), rel=1e-5)
    assert abs(sum(odd) / len(odd) - sum(nll) / len(nll)) > 1e-4 * step1["odd"]["nll_loss"]  # the two differ
    assert step1["none"]["nll_loss"] == 0 and step1["none"]["loss"] == pytest.approx(math.log(2), abs=1e-6)
    assert step1["all"]["loss"] == pytest.approx(step1["default"]["loss"], abs=1e-7)
    with pytest.raises(ValueError, match="one bool per pair"):
        T.train_dpo(small(tok), small(tok), tok, batch, dpo_cfg(rpo_alpha=2.0), progress=False,
                    anchored=[True] * 7)


@pytest.mark.parametrize("make, message", [
    (lambda: T.DPOConfig(lr=0), "DPOConfig.lr must be a number > 0, got 0"),
    (lambda: T.DPOConfig(lr="1e-4"), "DPOConfig.lr must be a number > 0, got '1e-4'"),
    (lambda: T.DPOConfig(batch_size=0), "DPOConfig.batch_size must be a number >= 1, got 0"),
    (lambda: T.DPOConfig(rpo_alpha=-1.0), "DPOConfig.rpo_alpha must be >= 0"),
    (lambda: T.SFTConfig(lr=math.nan), "SFTConfig.lr must be a number > 0, got nan"),
    (lambda: T.SFTConfig(grad_clip=-1.0), "SFTConfig.grad_clip must be a number >= 0 (0: no clipping), got -1.0"),
    (lambda: RM.RMConfig(epochs=-1), "RMConfig.epochs must be a number >= 0, got -1"),
    (lambda: RM.RMConfig(schedule="linear"), "schedule must be 'cosine' or 'constant', got 'linear'"),
])
def test_settings_that_would_train_nothing_are_refused_before_any_step(make, message):
    """A zero learning rate would run every step and move no weight (and cache the result as a
    trained model); each such setting is refused where the config is made, naming the field."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()
    assert T.SFTConfig(epochs=0).epochs == 0          # no steps at all: the model as it starts
    assert T.DPOConfig(grad_clip=0.0).grad_clip == 0.0  # no clipping, as TRL's max_grad_norm=0


def test_sft_lowers_the_loss_and_is_seeded(tok):
    rows = data.sft_corpus().select(range(64))
    runs = []
    for _ in range(2):
        m = small(tok)
        torch.manual_seed(0)
        h = T.train_sft(m, tok, rows, T.SFTConfig(**CFG), progress=False)
        runs.append(weights(m))
    assert h[-1]["loss"] < h[0]["loss"]
    assert len(h) == 8 and h[-1]["step"] == 8
    assert_same(*runs)  # same seed, same weights, bit for bit


def test_dpo_history_uses_trl_names_and_starts_at_chance(tok, pairs, held_out):
    policy, reference = small(tok), small(tok)
    seen = []
    h = T.train_dpo(policy, reference, tok, pairs, dpo_cfg(eval_every=3),
                    eval_pairs=held_out, callback=lambda s, m: seen.append(s), progress=False)
    assert seen == list(range(0, 7))
    start = h[0]
    assert start["step"] == 0 and start["eval_kl"] == pytest.approx(0, abs=1e-6)
    assert start["eval_rewards/accuracies"] == 0.0  # strict: policy = reference
    for record in h[1:]:
        assert set(TRL_NAMES) <= set(record)
    # first step: policy = reference, so the loss is log 2 and every reward is 0
    assert h[1]["loss"] == pytest.approx(0.693147, abs=1e-5)
    # up to float32 rounding: a reply's summed log-prob (tens of nats) carries about 1e-5 of it,
    # and the reference's were computed in another batch than the policy's
    assert h[1]["rewards/margins"] == pytest.approx(0.0, abs=1e-5)
    assert "eval_kl" in h[3] and "eval_kl" in h[6] and "eval_kl" not in h[4]
    assert h[-1]["eval_kl"] > 0
    assert h[-1]["rewards/margins"] > 0


def test_held_out_loss_is_the_dpo_term_on_the_held_out_pairs(tok, pairs, held_out):
    """`eval_dpo_loss` is ln 2 while policy = reference, and at the end the mean of -log sigma
    of the held-out margins that `evaluate.preference_metrics` computes in its own batches."""
    from dpolab.evaluate import preference_metrics

    policy, reference = small(tok), small(tok)
    config = dpo_cfg(eval_every=3, beta=0.5)
    h = T.train_dpo(policy, reference, tok, pairs, config, eval_pairs=held_out, progress=False)
    assert h[0]["eval_dpo_loss"] == pytest.approx(math.log(2), abs=1e-6)
    m = preference_metrics(policy, reference, tok, held_out[:config.eval_size], beta=0.5, per_pair=True)
    margins = m["per_pair"]["chosen_rewards"] - m["per_pair"]["rejected_rewards"]
    assert h[-1]["eval_dpo_loss"] == pytest.approx(-torch.nn.functional.logsigmoid(margins).mean().item(), abs=1e-5)
    assert h[-1]["eval_dpo_loss"] != pytest.approx(math.log(2), abs=1e-3)   # the policy moved


def test_reference_log_probs_are_computed_once(tok, pairs):
    policy, reference = small(tok), small(tok)
    calls, at_step = [], {}
    reference.transformer.register_forward_hook(lambda mod, args, out: calls.append(1))
    T.train_dpo(policy, reference, tok, pairs, dpo_cfg(epochs=2), progress=False,
                callback=lambda step, rec: at_step.setdefault(step, len(calls)))
    # one batched pass over the 48 pairs (one batch of 64, run as length buckets) before step 1,
    # then no reference forward at all in two epochs of training
    assert 1 <= len(calls) <= round(2 * len(pairs) / L.ROWS_PER_BUCKET) + 1
    assert at_step[1] == len(calls) == at_step[max(at_step)]
    assert not reference.training
    assert all(not p.requires_grad for p in reference.parameters())


@pytest.mark.parametrize("loss_type", ["sigmoid", "ipo", "hinge", "robust", "simpo"])
def test_loss_types_and_options_train(tok, pairs, loss_type):
    policy, reference = small(tok), small(tok)
    smoothing = 0.1 if loss_type in ("sigmoid", "robust") else 0.0
    h = T.train_dpo(policy, reference, tok, pairs,
                    dpo_cfg(loss_type=loss_type, label_smoothing=smoothing), progress=False)
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in h)
    h = T.train_dpo(small(tok), reference, tok, pairs, dpo_cfg(reference_free=True),
                    progress=False, stop_after=2)
    assert len(h) == 2


@pytest.mark.parametrize("loss_type", ["sigmoid_norm", "simpo"])
def test_dpo_step_divides_by_the_number_of_log_probs_summed(tok, pairs, loss_type):
    """|y| in dpo_step is the count of per-token log-probs that the summed log-prob adds up. The
    first pair's prompt is emptied: its first reply token has nothing before it, so no log-prob,
    and must not count (though the completion mask marks it)."""
    examples = data.tokenize_pairs(tok, *data.columns(pairs[:4], "prompt", "chosen", "rejected"))
    examples[0] = {**examples[0], "prompt_ids": []}
    batch = data.collate_pairs(examples, tok.pad_token_id)
    policy, reference = small(tok).eval(), small(tok, seed=1).eval()
    with torch.no_grad():
        tokens = L.per_token_logps(policy, batch["input_ids"], batch["attention_mask"],
                                   batch["completion_mask"])               # (2B, T), 0 off-completion
        batch["ref_chosen_logps"], batch["ref_rejected_logps"] = L.concatenated_forward(reference, batch)
    counted = (tokens != 0).sum(-1)                                         # (2B,)
    replies = [e[k] for k in ("chosen_ids", "rejected_ids") for e in examples]
    assert counted.tolist() == [len(r) - (i % 4 == 0) for i, r in enumerate(replies)]

    loss, _ = T.dpo_step(policy, batch, dpo_cfg(loss_type=loss_type, beta=0.5, simpo_gamma=0.3))
    ref = torch.cat([batch["ref_chosen_logps"], batch["ref_rejected_logps"]])
    per_token = (tokens.sum(-1) - (0.0 if loss_type == "simpo" else ref)) / counted
    z = 0.5 * (per_token[:4] - per_token[4:]) - (0.3 if loss_type == "simpo" else 0.0)
    assert loss.item() == pytest.approx(torch.log1p(torch.exp(-z)).mean().item(), abs=1e-6)


def test_bad_options_and_input_raise_clearly(tok, pairs):
    with pytest.raises(ValueError, match="unknown loss_type"):
        T.DPOConfig(loss_type="kto")
    with pytest.raises(ValueError, match="beta must be a finite number > 0"):
        T.DPOConfig(beta=0)
    with pytest.raises(ValueError, match="simpo_gamma must be finite and >= 0"):
        T.DPOConfig(loss_type="simpo", simpo_gamma=-0.5)
    with pytest.raises(ValueError, match="missing column 'rejected'"):
        T.train_dpo(small(tok), small(tok), tok, [{"prompt": "a", "chosen": "b"}], progress=False)
    with pytest.raises(ValueError, match="leaves no room for the prompt"):
        T.train_dpo(small(tok), small(tok), tok,
                    [{"prompt": "a", "chosen": "word " * 400, "rejected": "b"}], progress=False)


def test_nan_loss_stops_with_the_step_and_keeps_the_last_checkpoint(tok, pairs, tmp_path, monkeypatch):
    real = T.dpo_loss
    calls = {"n": 0}

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        losses, r_w, r_l = real(*args, **kwargs)
        return (losses * float("nan") if calls["n"] == 5 else losses), r_w, r_l

    monkeypatch.setattr(T, "dpo_loss", poisoned)
    policy = small(tok)
    with pytest.raises(T.TrainingDiverged, match=r"nan at step 5;.*last good checkpoint \(step 4\)"):
        T.train_dpo(policy, small(tok), tok, pairs, dpo_cfg(save_every=2),
                    checkpoint_dir=tmp_path, progress=False)
    assert T.latest_checkpoint(tmp_path).name == "step-000004"
    restored = small(tok, seed=9)
    step, history = T.load_checkpoint(tmp_path, restored)
    assert step == 4 and len(history) == 4
    assert all(torch.isfinite(p).all() for p in restored.parameters())


def test_crash_while_checkpointing_leaves_previous_checkpoint(tok, pairs, tmp_path, monkeypatch):
    policy = small(tok)
    T.train_dpo(policy, small(tok), tok, pairs, dpo_cfg(save_every=2),
                checkpoint_dir=tmp_path, progress=False, stop_after=2)
    before = (tmp_path / "step-000002" / "model.safetensors").read_bytes()

    def crash(tensors, filename, metadata=None):
        with open(filename, "wb") as f:
            f.write(b"half a file")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(loop, "save_file", crash)  # checkpoints are written by dpolab.loop
    with pytest.raises(KeyboardInterrupt):
        T.train_dpo(policy, small(tok), tok, pairs, dpo_cfg(save_every=2),
                    checkpoint_dir=tmp_path, progress=False, resume=True)
    assert T.latest_checkpoint(tmp_path).name == "step-000002"
    assert (tmp_path / "step-000002" / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "step-000002"]
    step, _ = T.load_checkpoint(tmp_path, small(tok))
    assert step == 2


def test_resume_equals_an_uninterrupted_run(tok, pairs, held_out, tmp_path):
    cfg = dpo_cfg(epochs=2, save_every=2, eval_every=4)
    full = small(tok)
    h_full = T.train_dpo(full, small(tok), tok, pairs, cfg, eval_pairs=held_out, progress=False)

    part = small(tok)
    T.train_dpo(part, small(tok), tok, pairs, cfg, eval_pairs=held_out, progress=False,
                checkpoint_dir=tmp_path, stop_after=5)  # checkpoint at step 4, step 5 lost
    resumed = small(tok, seed=7)  # fresh weights: everything must come from the checkpoint
    h_res = T.train_dpo(resumed, small(tok), tok, pairs, cfg, eval_pairs=held_out,
                        progress=False, checkpoint_dir=tmp_path, resume=True)
    assert_same(weights(full), weights(resumed), atol=1e-6)
    assert [r["step"] for r in h_res] == [r["step"] for r in h_full]
    assert h_res[-1]["loss"] == pytest.approx(h_full[-1]["loss"], abs=1e-6)
    state = json.loads((T.latest_checkpoint(tmp_path) / "trainer_state.json").read_text())
    assert state["step"] == 12 and state["param_groups"][0]["lr"] == loop.learning_rate(11, cfg, 12)  # the last step's
    # resuming under other settings would finish this run with another's steps: refused, named
    other = dpo_cfg(epochs=2, save_every=3, eval_every=4, beta=0.5)    # save_every alone may change
    with pytest.raises(loop.CheckpointMismatch, match=r"other settings \(beta 0.1 -> 0.5\)"):
        T.train_dpo(small(tok), small(tok), tok, pairs, other, eval_pairs=held_out, progress=False,
                    checkpoint_dir=tmp_path, resume=True)
    # a damaged checkpoint is named, not a JSON traceback
    (T.latest_checkpoint(tmp_path) / "trainer_state.json").write_text('{"step": 12, "hist')
    with pytest.raises(loop.CheckpointMismatch, match=r"step-000012 cannot be read \(JSONDecodeError: .*remove"):
        T.train_dpo(small(tok), small(tok), tok, pairs, cfg, eval_pairs=held_out, progress=False,
                    checkpoint_dir=tmp_path, resume=True)


def test_learning_rate_warms_up_then_holds_or_decays_to_a_tenth():
    total, cos, const = 174, T.DPOConfig(schedule="cosine"), T.DPOConfig(schedule="constant")
    lr = [loop.learning_rate(s, cos, total) for s in range(total)]
    assert lr[0] == pytest.approx(cos.lr / cos.warmup_steps) and lr[cos.warmup_steps - 1] == cos.lr
    after = lr[cos.warmup_steps:]
    assert after[0] == cos.lr and all(a > b for a, b in zip(after, after[1:]))  # falls at every step
    assert after[-1] == pytest.approx(cos.lr / 10, rel=1e-2)  # to lr / 10 as progress reaches 1
    half = cos.warmup_steps + (total - cos.warmup_steps) // 2  # halfway: the mean of lr and lr / 10
    assert loop.learning_rate(half, cos, total) == pytest.approx(0.55 * cos.lr)
    assert {loop.learning_rate(s, const, total) for s in range(const.warmup_steps - 1, total)} == {const.lr}
    with pytest.raises(ValueError, match="schedule must be"):
        loop.fit(None, [1], None, None, T.DPOConfig(schedule="linear"), desc="x", callback=None,
                 checkpoint_dir=None, resume=False, stop_after=None, progress=False)
    with pytest.raises(ValueError, match="schedule must be 'cosine' or 'constant', got 'linear'"):
        T.DPOConfig(schedule="linear")  # refused when the config is made, before TRL or training sees it
    with pytest.raises(ValueError, match="schedule must be"):
        loop.fit(None, [1], None, None, T.SFTConfig(schedule="linear"), desc="x", callback=None,
                 checkpoint_dir=None, resume=False, stop_after=None, progress=False)


def test_sft_resume_restores_dropout_rng(tok, tmp_path):
    rows = data.sft_corpus().select(range(48))
    cfg = T.SFTConfig(**{**CFG, "save_every": 3})
    full = small(tok)
    torch.manual_seed(0)
    T.train_sft(full, tok, rows, cfg, progress=False)
    part = small(tok)
    torch.manual_seed(0)
    T.train_sft(part, tok, rows, cfg, progress=False, checkpoint_dir=tmp_path, stop_after=3)
    torch.manual_seed(123)  # a different global RNG: the checkpoint must restore it
    resumed = small(tok)
    T.train_sft(resumed, tok, rows, cfg, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert_same(weights(full), weights(resumed), atol=1e-6)


def test_reward_model_learns_bradley_terry(tok, pairs, tmp_path):
    lm = small(tok)
    rm, h = RM.train_reward_model(lm, tok, pairs, RM.RMConfig(batch_size=8, epochs=3, lr=1e-3),
                                  progress=False)
    assert h[-1]["loss"] < h[0]["loss"]
    scores_w = RM.score(rm, tok, [r["prompt"] for r in pairs], [r["chosen"] for r in pairs])
    scores_l = RM.score(rm, tok, [r["prompt"] for r in pairs], [r["rejected"] for r in pairs])
    assert scores_w.shape == (len(pairs),)
    assert (scores_w > scores_l).float().mean() > 0.8
    M.save(rm, tok, tmp_path / "rm")
    from transformers import AutoModelForSequenceClassification

    again = AutoModelForSequenceClassification.from_pretrained(tmp_path / "rm").eval()
    torch.testing.assert_close(RM.score(again, tok, [pairs[0]["prompt"]], [pairs[0]["chosen"]]),
                               scores_w[:1], atol=1e-5, rtol=0)


def test_given_reference_logps_replace_the_reference_pass(tok, pairs):
    policy, reference = small(tok), small(tok)
    calls = []
    reference.transformer.register_forward_hook(lambda mod, args, out: calls.append(1))
    examples = data.tokenize_pairs(tok, *[[r[k] for r in pairs] for k in ("prompt", "chosen", "rejected")],
                                   reference.config.n_positions)
    known = L.tokenized_pair_logps(reference, examples, tok.pad_token_id)
    n_pass = len(calls)
    h_given = T.train_dpo(policy, reference, tok, pairs, dpo_cfg(), progress=False, reference_logps=known)
    assert len(calls) == n_pass  # the reference never ran during that training
    h_own = T.train_dpo(small(tok), reference, tok, pairs, dpo_cfg(), progress=False)
    assert [r["loss"] for r in h_given] == [r["loss"] for r in h_own]  # bit for bit
    with pytest.raises(ValueError, match="one value per pair"):
        T.train_dpo(small(tok), reference, tok, pairs, dpo_cfg(), progress=False,
                    reference_logps=(known[0][:3], known[1][:3]))
