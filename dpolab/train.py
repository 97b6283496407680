"""Trainers: supervised fine-tuning (SFT) and DPO against a frozen reference (Eq. 7 of
https://arxiv.org/abs/2305.18290); the explicit reward model is in `rewardmodel`.

Both run on one small loop (`loop.fit`: seeded batches, AdamW with warm-up, clipping,
progress bar, metrics per step with TRL's names, callback, NaN guard, atomic checkpoints and exact
resume).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from dpolab.data import collate_pairs, collate_sft, columns, pair_lengths, tokenize_pairs, tokenize_sft
from dpolab.logprobs import (completion_lengths, completion_log_softmax, concatenated_forward,
                             kl_along_completions, per_token_logps, tokenized_pair_logps)
from dpolab.loop import (  # noqa: F401  (the checkpoint API, reached through train as before)
    Callback, TrainingDiverged, check_schedule, check_steps, fit, has_checkpoint, latest_checkpoint,
    load_checkpoint, save_checkpoint)
from dpolab.losses import check_options, dpo_loss, reward_metrics
from dpolab.model import (VOCAB_SIZE, GPTConfig, context_length, corpus_texts, new_model,
                          train_tokenizer)

@dataclass
class SFTConfig:
    """Supervised fine-tuning: next-token cross-entropy on response + EOS tokens only."""

    lr: float = 3e-3
    # Over 12,150 dialogues: 1,520 steps. Chosen on the corpus before it had two-part messages, with
    # the default DPO run on each reference (audit, 640 safety replies): 2, 3, 4, 5 epochs gave a
    # pooled safe rate of 0.71, 0.80, 0.84, 0.78. On today's corpus, in the notes' run, the 4-epoch
    # reference is fluent in 0.99 of its sampled replies and the default policy safe in 0.88
    # (notebooks 05, 06). On an AMD EPYC (Zen 4), today's corpus, the default policy at three batch
    # orders (`seed` 0, 1, 2): 4 epochs, reference safe 0.52, policies 0.88, 0.87, 0.89 (worst
    # category 0.80-0.81); 3 epochs, reference 0.38, policies 0.83, 0.85, 0.81 (worst 0.66-0.78):
    # a larger gain over the reference (0.43-0.47 against 0.35-0.37), short of the policy's goals.
    epochs: int = 4
    batch_size: int = 32
    warmup_steps: int = 20
    schedule: str = "cosine"  # after warm-up: "cosine" decay to lr / 10, or "constant"
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    max_length: int | None = None  # None: the model's context
    seed: int = 0
    save_every: int = 100  # steps between checkpoints (when a checkpoint_dir is given)

    def __post_init__(self):
        check_steps(self)


@dataclass
class DPOConfig:
    """DPO (Eq. 7) and its variants; the defaults train the series' policy.

    Measured on the shipped data with the tiny model (beta 0.1, one epoch; `artifacts.audit`,
    160 sampled replies per category): plain DPO at lr 2e-5 barely moves what the assistant
    says; at lr 1e-4 and above it lowers the chosen replies' likelihood along with the rejected
    ones, and the sampled replies fall apart into broken clauses. An NLL term on the chosen
    reply (`rpo_alpha`, RPO) keeps them whole, and lets a larger learning rate move the policy.

    The learning rate and schedule, measured the same way over three batch orders (`seed` 0, 1,
    2; pooled safe rate over the four safety categories, 640 replies each; on an AMD EPYC, Zen 4,
    where the notes were first written, so not the notes' run of today): constant 3e-4 gave
    0.88, 0.84, 0.82 (two seeds below the series' goal of 0.85); cosine down to lr / 10 from 3e-4
    gave 0.85, 0.86, 0.84, from 6e-4 0.88, 0.87, 0.89, from 1e-3 0.87, 0.84, 0.85. A cosine
    decay ends the epoch on small steps, so the last batches' order matters less.
    """

    beta: float = 0.1
    loss_type: str = "sigmoid"
    label_smoothing: float = 0.0
    reference_free: bool = False
    # RPO (Pang et al. 2024, https://arxiv.org/abs/2404.19733): add rpo_alpha x the chosen reply's
    # NLL per token (averaged per reply, then over the batch) to the loss, so DPO cannot lower the
    # chosen reply's likelihood freely. TRL spells it loss_type=["sigmoid", "sft"] with
    # loss_weights=[1, rpo_alpha] and averages over all the batch's chosen tokens at once (long
    # replies weigh more there). 0 is plain DPO.
    rpo_alpha: float = 4.0
    # SimPO's target margin gamma (loss_type="simpo"; TRL's CPOConfig calls it simpo_gamma too).
    simpo_gamma: float = 0.5
    lr: float = 6e-4
    epochs: int = 1
    batch_size: int = 16
    warmup_steps: int = 10
    schedule: str = "cosine"
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    max_length: int | None = None
    seed: int = 0
    eval_every: int = 25  # steps between held-out evaluations (accuracy, loss and KL)
    eval_size: int = 64  # held-out pairs used for those evaluations
    save_every: int = 50

    def __post_init__(self):
        check_options(self.beta, self.label_smoothing, self.loss_type, self.simpo_gamma)
        if not self.rpo_alpha >= 0:
            raise ValueError(f"DPOConfig.rpo_alpha must be >= 0 (the chosen reply's NLL weight), got {self.rpo_alpha!r}")
        check_steps(self)  # before any training, and before `trl_recipe` maps the schedule


# ---------------------------------------------------------------------------------------------
# SFT


def sft_loss(model, batch: dict) -> tuple[torch.Tensor, int]:
    """Mean negative log-likelihood over the completion tokens of the batch; returns (loss, n_tokens)."""
    mask = batch["completion_mask"]
    logps = per_token_logps(model, batch["input_ids"], batch["attention_mask"], mask)
    n = int(completion_lengths(mask).sum())
    return -logps.sum() / max(n, 1), n


def train_sft(model, tokenizer, data, config: SFTConfig | None = None, *,
              response_column: str = "response", callback: Callback | None = None,
              checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
              stop_after: int | None = None, progress: bool = True) -> list[dict]:
    """Fine-tune `model` in place on (prompt, response) rows.

    Args:
        data: rows with `prompt` and `response_column` (a `datasets.Dataset`, dict of lists or
            list of dicts). For an "SFT on chosen only" baseline pass pairs with
            `response_column="chosen"`.
        callback: called as `callback(step, metrics)` after every step.
        checkpoint_dir: where checkpoints go (every `config.save_every` steps and at the end).
        resume: continue from the checkpoint in `checkpoint_dir` if there is one.
        stop_after: stop once this many steps are done (to simulate an interruption).

    Returns:
        The history: one dict per step with `step`, `epoch`, `lr`, `loss`, `tokens`, `time`.
    """
    config = config or SFTConfig()
    prompts, responses = columns(data, "prompt", response_column)
    examples = tokenize_sft(tokenizer, prompts, responses, context_length(model, config.max_length))
    pad = tokenizer.pad_token_id

    def step_fn(batch):
        loss, n = sft_loss(model, batch)
        return loss, {"tokens": n}

    lengths = [len(e["prompt_ids"]) + len(e["completion_ids"]) for e in examples]
    return fit(model, lengths, lambda idx: collate_sft([examples[i] for i in idx], pad),
               step_fn, config, desc="SFT", callback=callback, checkpoint_dir=checkpoint_dir,
               resume=resume, stop_after=stop_after, progress=progress)


def build_sft_model(rows, gpt: GPTConfig | str = "gpt-tiny", config: SFTConfig | None = None,
                    tokenizer=None, vocab_size: int = VOCAB_SIZE, **kwargs):
    """Tokenizer (trained on `rows` unless given) + fresh GPT-2 + SFT; returns (model, tokenizer, history)."""
    config = config or SFTConfig()
    if tokenizer is None:
        tokenizer = train_tokenizer(corpus_texts(_as_rows(rows)), vocab_size=vocab_size)
    model = new_model(tokenizer, gpt, seed=config.seed)
    history = train_sft(model, tokenizer, rows, config, **kwargs)
    return model, tokenizer, history


def _as_rows(rows):
    prompts, responses = columns(rows, "prompt", "response")
    return [{"prompt": p, "response": r} for p, r in zip(prompts, responses)]


# ---------------------------------------------------------------------------------------------
# DPO


def config_loss(config: DPOConfig, policy_w, policy_l, ref_w, ref_l, len_w, len_l):
    """`dpo_loss` with `config`'s loss options: (losses, chosen_rewards, rejected_rewards), each
    (B,), from the summed log-probs (B,) of each reply under policy and reference and the
    replies' lengths |y| (B,)."""
    return dpo_loss(policy_w, policy_l, ref_w, ref_l, beta=config.beta, loss_type=config.loss_type,
                    label_smoothing=config.label_smoothing, reference_free=config.reference_free,
                    chosen_lengths=len_w, rejected_lengths=len_l, simpo_gamma=config.simpo_gamma)


def dpo_step(policy, batch: dict, config: DPOConfig) -> tuple[torch.Tensor, dict]:
    """The loss and metrics of one DPO step on a `collate_pairs` batch that carries the
    reference's log-probs (`ref_chosen_logps`, `ref_rejected_logps`, each (B,)).

    The loss is the pairs' mean `dpo_loss`, plus `config.rpo_alpha` x the chosen replies' mean
    NLL per token (RPO), over the pairs the batch's `anchored` (B,) marks with 1.0 when it has
    one; the metrics are `losses.reward_metrics` (and `nll_loss` with RPO). The
    replies' lengths |y| (what the length-normalized losses and RPO divide by) are counted from
    the completion mask exactly as the log-probs are summed (`logprobs.completion_lengths`).
    """
    policy_w, policy_l = concatenated_forward(policy, batch)
    len_w, len_l = completion_lengths(batch["completion_mask"]).chunk(2)  # (B,) each
    losses, r_w, r_l = config_loss(config, policy_w, policy_l, batch["ref_chosen_logps"],
                                   batch["ref_rejected_logps"], len_w, len_l)
    metrics = reward_metrics(r_w, r_l, policy_w, policy_l)
    loss = losses.mean()
    if config.rpo_alpha:
        nll_w = -policy_w / len_w.clamp(min=1)  # (B,) each chosen reply's NLL per token
        anchored = batch.get("anchored")  # (B,) 1.0 where the NLL term trains on the chosen reply
        if anchored is None:
            nll = nll_w.mean()
        else:  # mean over the anchored pairs only (0 for a batch without any)
            nll = (nll_w * anchored).sum() / anchored.sum().clamp(min=1)
        loss = loss + config.rpo_alpha * nll
        metrics["nll_loss"] = nll.item()
    return loss, metrics


def train_dpo(policy, reference, tokenizer, pairs, config: DPOConfig | None = None, *,
              eval_pairs=None, callback: Callback | None = None,
              checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
              stop_after: int | None = None, progress: bool = True,
              reference_logps: tuple[torch.Tensor, torch.Tensor] | None = None,
              anchored: list[bool] | None = None) -> list[dict]:
    """Train `policy` in place with DPO against the frozen `reference`.

    The reference log-probs of every training pair are computed once, before the first step,
    and reused (or taken from `reference_logps`: two (N,) tensors, log pi_ref of each pair's
    chosen and rejected completion, e.g. from `artifacts.reference_logps`). Dropout is off in
    both models (as TRL does by default), so a step (`dpo_step`) is a deterministic function of
    the weights and the batch.

    Args:
        pairs: rows with `prompt`, `chosen`, `rejected`.
        eval_pairs: held-out pairs; every `config.eval_every` steps (and at step 0) the first
            `config.eval_size` of them give `eval_rewards/accuracies`, `eval_rewards/margins`,
            `eval_dpo_loss` (the pairs' mean `dpo_loss` under `config`: the training loss's
            preference term, without RPO's NLL term) and `eval_kl`: the mean over those
            held-out prompts of the summed token-level KL(pi || pi_ref) along their chosen and
            rejected completions (teacher-forced, exact over the vocabulary; see
            `logprobs.kl_along_completions`).
        anchored: one bool per pair: whether RPO's NLL term (`config.rpo_alpha`) trains on its
            chosen reply. None: every pair's. The DPO term trains on every pair either way, so
            a pair marked False teaches the policy to rank its replies, not to write them.

    Returns:
        The history: one dict per step with TRL's names `loss`, `rewards/chosen`,
        `rewards/rejected`, `rewards/margins`, `rewards/accuracies`, `logps/chosen`,
        `logps/rejected` (batch means), plus `step`, `epoch`, `lr`, `time`, and the `eval_*`
        entries on evaluation steps. Step 0 holds only the evaluation.
    """
    config = config or DPOConfig()
    pad = tokenizer.pad_token_id
    n_ctx = context_length(policy, config.max_length)
    prompts, chosen, rejected = columns(pairs, "prompt", "chosen", "rejected")
    examples = tokenize_pairs(tokenizer, prompts, chosen, rejected, n_ctx)
    if reference is None and (reference_logps is None or eval_pairs is not None):
        raise ValueError("reference=None needs reference_logps and no eval_pairs (held-out "
                         "evaluation runs the reference)")
    for p in reference.parameters() if reference is not None else ():
        p.requires_grad_(False)
    if reference_logps is None:
        ref_w, ref_l = tokenized_pair_logps(reference, examples, pad)  # dropout off in the reference
    else:
        ref_w, ref_l = reference_logps
        if tuple(ref_w.shape) != (len(examples),) or tuple(ref_l.shape) != (len(examples),):
            raise ValueError(f"reference_logps must be two ({len(examples)},) tensors, one value per "
                             f"pair; got {tuple(ref_w.shape)} and {tuple(ref_l.shape)}")

    eval_fn = None
    if eval_pairs is not None:
        eval_fn = _dpo_evaluator(policy, reference, tokenizer, eval_pairs, config, n_ctx)

    if anchored is not None:
        if len(anchored) != len(examples):
            raise ValueError(f"anchored must hold one bool per pair ({len(examples)}), got {len(anchored)}")
        anchored = torch.tensor([float(bool(a)) for a in anchored])

    def make_batch(idx):
        batch = collate_pairs([examples[i] for i in idx], pad)
        batch["ref_chosen_logps"], batch["ref_rejected_logps"] = ref_w[idx], ref_l[idx]
        if anchored is not None:
            batch["anchored"] = anchored[idx]
        return batch

    return fit(policy, pair_lengths(examples), make_batch, lambda batch: dpo_step(policy, batch, config),
               config, desc="DPO", callback=callback, checkpoint_dir=checkpoint_dir, resume=resume,
               stop_after=stop_after, progress=progress, eval_fn=eval_fn,
               eval_every=config.eval_every, train_mode=False)


# What a held-out evaluation records besides `eval_dpo_loss` and `eval_kl`: no per-reply reward means.
EVAL_METRICS = ("eval_rewards/accuracies", "eval_rewards/margins", "eval_logps/chosen",
                "eval_logps/rejected")


def _dpo_evaluator(policy, reference, tokenizer, eval_pairs, config: DPOConfig, n_ctx: int):
    prompts, chosen, rejected = columns(eval_pairs, "prompt", "chosen", "rejected")
    k = config.eval_size
    examples = tokenize_pairs(tokenizer, prompts[:k], chosen[:k], rejected[:k], n_ctx, what="held-out pair")
    batch = collate_pairs(examples, tokenizer.pad_token_id)
    ref_logp, ref_seq = completion_log_softmax(reference, batch)          # computed once
    ref_w, ref_l = ref_seq.chunk(2)
    len_w, len_l = completion_lengths(batch["completion_mask"]).chunk(2)

    @torch.no_grad()
    def eval_fn() -> dict:
        policy.eval()
        logp, seq = completion_log_softmax(policy, batch)                  # one forward
        w, l = seq.chunk(2)
        losses, r_w, r_l = config_loss(config, w, l, ref_w, ref_l, len_w, len_l)
        metrics = reward_metrics(r_w, r_l, w, l, prefix="eval_")
        kl = kl_along_completions(logp, ref_logp, batch)                   # (2E,)
        return {**{k: metrics[k] for k in EVAL_METRICS}, "eval_dpo_loss": losses.mean().item(),
                "eval_kl": kl.view(2, -1).mean(0).mean().item()}
    return eval_fn
