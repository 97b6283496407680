"""The explicit reward model that DPO does without: a GPT-2 body with a scalar head, fitted to the
preference pairs by maximum likelihood under Bradley-Terry (Eq. 2 of
https://arxiv.org/abs/2305.18290), on the same loop as the trainers (`loop.fit`).

Notebook 08 sets its rewards beside DPO's implicit ones; notebook 11 runs RL against it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers import GPT2ForSequenceClassification

from dpolab.data import collate_pairs, collate_sft, columns, pair_lengths, tokenize_pairs, tokenize_sft
from dpolab.loop import Callback, check_steps, fit
from dpolab.losses import reward_metrics
from dpolab.model import context_length


@dataclass
class RMConfig:
    """Explicit reward model: GPT-2 body + scalar head, Bradley-Terry loss on the pairs."""

    lr: float = 3e-4
    epochs: int = 1
    batch_size: int = 16
    warmup_steps: int = 10
    schedule: str = "constant"
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    max_length: int | None = None
    seed: int = 0
    save_every: int = 50

    def __post_init__(self):
        check_steps(self)


def reward_model_from(lm, seed: int = 0) -> GPT2ForSequenceClassification:
    """A GPT-2 with a scalar head (`num_labels=1`), its body copied from the language model `lm`."""
    cfg = lm.config.__class__.from_dict(lm.config.to_dict())
    cfg.num_labels = 1
    cfg.pad_token_id = lm.config.eos_token_id if cfg.pad_token_id is None else cfg.pad_token_id
    cfg.architectures = ["GPT2ForSequenceClassification"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        rm = GPT2ForSequenceClassification(cfg)
    rm.transformer.load_state_dict(lm.transformer.state_dict())
    return rm


def rewards(rm, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Scalar reward r(x, y) read at the last non-pad token of each row; (N, T) -> (N,).

    The pad id is EOS, so this is the last response token: the EOS itself is not read.
    """
    return rm(input_ids=input_ids, attention_mask=attention_mask).logits.squeeze(-1)


def train_reward_model(lm, tokenizer, pairs, config: RMConfig | None = None, *,
                       callback: Callback | None = None,
                       checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
                       stop_after: int | None = None, progress: bool = True):
    """Fit r(x, y) by maximum likelihood under Bradley-Terry: loss = -log sigma(r(x, y_w) - r(x, y_l)).

    Returns:
        (reward_model, history); history uses `loss`, `rewards/chosen`, `rewards/rejected`,
        `rewards/margins`, `rewards/accuracies` (explicit rewards, batch means).
    """
    config = config or RMConfig()
    rm = reward_model_from(lm, seed=config.seed)
    pad = tokenizer.pad_token_id
    prompts, chosen, rejected = columns(pairs, "prompt", "chosen", "rejected")
    examples = tokenize_pairs(tokenizer, prompts, chosen, rejected, context_length(lm, config.max_length))

    def step_fn(batch):
        r_w, r_l = rewards(rm, batch["input_ids"], batch["attention_mask"]).chunk(2)
        loss = -F.logsigmoid(r_w - r_l).mean()
        return loss, reward_metrics(r_w.detach(), r_l.detach())

    history = fit(rm, pair_lengths(examples),
                  lambda idx: collate_pairs([examples[i] for i in idx], pad), step_fn, config, desc="reward model", callback=callback,
                  checkpoint_dir=checkpoint_dir, resume=resume, stop_after=stop_after,
                  progress=progress, train_mode=False)
    return rm, history


@torch.no_grad()
def score(rm, tokenizer, prompts: list[str], responses: list[str], batch_size: int = 64) -> torch.Tensor:
    """Explicit rewards r(x, y) for many (prompt, response) rows; shape (N,)."""
    rm.eval()
    examples = tokenize_sft(tokenizer, prompts, responses, context_length(rm))
    out = [rewards(rm, **{k: v for k, v in collate_sft(examples[i:i + batch_size],
                                                         tokenizer.pad_token_id).items()
                          if k != "completion_mask"})
           for i in range(0, len(examples), batch_size)]
    return torch.cat(out)
