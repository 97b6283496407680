"""The pipeline DPO removes: a reward model, then on-policy reinforcement learning against it with
a KL penalty to the reference (the RLHF objective, Eq. 3 of https://arxiv.org/abs/2305.18290):

    max_pi  E_{x, y ~ pi}[ r(x, y) ]  -  beta * KL( pi(.|x) || pi_ref(.|x) ).

Two learners for it, both plain policy gradient with the leave-one-out baseline of RLOO (Ahmadian
et al. 2024, https://arxiv.org/abs/2402.14740), which needs no value network:

- `tabular_rlhf`: the finite-reply toy of notebooks 03-04 (one logit per prompt and reply). With
  `samples=None` it follows the exact gradient; otherwise it samples replies, as RL must.
- `train_rloo`: the small GPT-2. Each step samples K replies to each of P prompts from the policy
  (batched, KV cache), scores them with the reward model, subtracts beta times the sampled
  sequence's log-ratio sum_t log pi(y_t) / pi_ref(y_t) (the k1 estimate of the KL, as TRL's
  `RLOOTrainer` does), and takes one gradient step on -A * log pi(y|x) with the leave-one-out
  advantage A. `rloo_advantages` and `rloo_loss` are TRL's formulas (checked against TRL in
  tests/test_rlhf.py::test_rloo_matches_trl). With `sft_coef` > 0 the loss also carries DPO's anchor, the
  chosen replies' NLL (`anchor_nll`): the control that lets notebook 11 race the preference step
  alone.

Unlike DPO, every step generates text: the replies per second of `sample_ids` bound the speed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from dpolab import artifacts
from dpolab.data import collate_sft, tokenize_sft
from dpolab.evaluate import SAFETY_CATEGORIES
from dpolab.judge import judge_reply
from dpolab.logprobs import sequence_logps
from dpolab.generation import decode_reply, prompt_ids, sample_ids
from dpolab.model import context_length, load_model, load_tokenizer, save
from dpolab.rewardmodel import score


# ---------------------------------------------------------------------------------------------
# The two formulas RLOO adds to a policy gradient


def rloo_advantages(rewards: torch.Tensor) -> torch.Tensor:
    """A_i = R_i - mean_{j != i} R_j within each prompt's group; rewards (P, K) -> (P, K), K >= 2."""
    if rewards.dim() != 2 or rewards.shape[1] < 2:
        raise ValueError(f"rewards must have shape (prompts, samples >= 2), got {tuple(rewards.shape)}")
    k = rewards.shape[1]
    baseline = (rewards.sum(1, keepdim=True) - rewards) / (k - 1)
    return rewards - baseline


def rloo_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
              epsilon: float = 0.2) -> torch.Tensor:
    """TRL's RLOO loss, mean over sequences of -min(rho A, clip(rho, 1 - eps, 1 + eps) A), with the
    sequence ratio rho = pi(y|x) / pi_old(y|x); all arguments (N,). With one step per batch of
    samples (old = current, detached) it is -A * log pi(y|x) in its gradient."""
    ratio = torch.exp(logps - old_logps)
    clipped = torch.clamp(ratio, 1 - epsilon, 1 + epsilon)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


# ---------------------------------------------------------------------------------------------
# The toy: tabular policy, exact or sampled gradient


def tabular_rlhf(reference_probs, rewards, beta: float, steps: int = 1500, lr: float = 0.05,
                 samples: int | None = 8, seed: int = 0, record_every: int = 25) -> dict:
    """Maximise E_pi[r] - beta KL(pi || pi_ref) over a tabular policy (P, K), from pi = pi_ref.

    Args:
        reference_probs, rewards: (P, K) arrays, e.g. a `bandit.Bandit`'s, or fitted rewards.
        samples: replies sampled per prompt and step (RLOO); None for the exact gradient.
    Returns:
        {"steps": (T,), "probs": (T, P, K)}, the policy every `record_every` steps and at the end.
    """
    ref_logp = torch.log(torch.as_tensor(np.asarray(reference_probs), dtype=torch.float64))
    r = torch.as_tensor(np.asarray(rewards), dtype=torch.float64)
    logits = ref_logp.clone().requires_grad_(True)
    opt = torch.optim.Adam([logits], lr=lr)
    gen = torch.Generator().manual_seed(seed)
    rows = torch.arange(r.shape[0])[:, None]
    rec_steps, rec_probs = [], []
    for step in range(steps + 1):
        logp = torch.log_softmax(logits, -1)
        if step % record_every == 0 or step == steps:
            rec_steps.append(step)
            rec_probs.append(logp.detach().exp().numpy())
        if step == steps:
            break
        if samples is None:   # the objective itself, summed over every reply
            p = logp.exp()
            loss = -(p * (r - beta * (logp - ref_logp))).sum(-1).mean()
        else:                 # score-function estimate from sampled replies
            y = torch.multinomial(logp.detach().exp(), samples, replacement=True, generator=gen)  # (P, S)
            reward = r[rows, y] - beta * (logp[rows, y] - ref_logp[rows, y]).detach()
            loss = -(rloo_advantages(reward) * logp[rows, y]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {"steps": np.array(rec_steps), "probs": np.array(rec_probs)}


# ---------------------------------------------------------------------------------------------
# The small GPT-2


@dataclass
class RLConfig:
    """RLOO against a reward model. One step: `prompts_per_step` prompts x `samples_per_prompt`
    sampled replies, one gradient step (so the PPO ratio is 1 and no clipping happens)."""

    kl_coef: float = 0.05            # beta of the RLHF objective (TRL's RLOO default)
    lr: float = 3e-4                 # with steps: the runs notebook 11 shows
    steps: int = 30
    prompts_per_step: int = 16
    samples_per_prompt: int = 4
    max_new_tokens: int = 48
    temperature: float = 1.0
    grad_clip: float = 1.0
    seed: int = 0
    sft_coef: float = 0.0            # weight of an NLL anchor on training pairs' chosen replies, as
                                     # DPO's rpo_alpha (0: none, the classic pipeline)

    def __post_init__(self):
        if not self.kl_coef >= 0:
            raise ValueError(f"kl_coef must be >= 0, got {self.kl_coef!r}")
        if not self.sft_coef >= 0:
            raise ValueError(f"sft_coef must be >= 0, got {self.sft_coef!r}")
        if self.samples_per_prompt < 2:
            raise ValueError("samples_per_prompt must be >= 2: the leave-one-out baseline needs a sibling")
        if not (self.steps >= 1 and self.prompts_per_step >= 1 and self.lr > 0):
            raise ValueError(f"steps, prompts_per_step and lr must be positive: {asdict(self)}")


def _score_batch(model, batch: dict, grad: bool) -> torch.Tensor:
    with torch.set_grad_enabled(grad):
        return sequence_logps(model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])


def rollout(policy, tokenizer, texts: list[str], max_new_tokens: int, temperature: float, gen,
            keep: int) -> tuple[list[str], list[bool], dict]:
    """Sample one reply per patient message (from its last `keep` prompt tokens); returns the
    replies (N,), whether each ended with EOS (N,), and the padded (N, T) prompt + reply batch."""
    ids = prompt_ids(tokenizer, texts, keep)
    completions = sample_ids(policy, tokenizer, ids, max_new_tokens, temperature, gen=gen)
    replies, ended = map(list, zip(*[decode_reply(tokenizer, c) for c in completions]))
    batch = collate_sft([{"prompt_ids": p, "completion_ids": c or [tokenizer.eos_token_id]}
                         for p, c in zip(ids, completions)], tokenizer.pad_token_id)
    return replies, ended, batch


def anchor_nll(policy, tokenizer, rows: list[dict]) -> torch.Tensor:
    """Mean over rows of the chosen reply's NLL per token, the anchor of DPO's recipe (RPO's term,
    `train.dpo_step` with `rpo_alpha`); rows carry `prompt` and `chosen`. Returns a scalar."""
    examples = tokenize_sft(tokenizer, [r["prompt"] for r in rows], [r["chosen"] for r in rows],
                            context_length(policy))
    batch = collate_sft(examples, tokenizer.pad_token_id)
    logps = _score_batch(policy, batch, grad=True)                                     # (N,)
    return (-logps / batch["completion_mask"].sum(-1).clamp(min=1)).mean()


def train_rloo(policy, reference, reward_model, tokenizer, prompts: list[tuple[str, str]],
               config: RLConfig | None = None, *, anchor_rows: list[dict] | None = None,
               callback=None, progress: bool = True) -> list[dict]:
    """Train `policy` in place with RLOO against `reward_model`, tethered to the frozen `reference`.

    Args:
        prompts: (category, patient message) pairs to sample from; the category lets the judge
            label each sampled reply (the gold measure, logged beside the proxy reward).
        anchor_rows: preference pairs (`prompt`, `chosen`) for the NLL anchor; needed when
            `config.sft_coef` > 0, which adds sft_coef x `anchor_nll` of `prompts_per_step` of them
            (drawn with their own generator, so the RL prompts are those of the unanchored run).
        callback: called as `callback(step, metrics)` after every step.
    Returns:
        One dict per step: `reward` (the reward model's mean score of the sampled replies, the
        proxy), `kl` (mean sum_t log pi/pi_ref of the sampled replies), `objective` (reward -
        kl_coef * kl), `nll` (the anchor's, with sft_coef > 0), `safe` and `broken` (the
        judge's labels of the step's samples: the gold measure, which training never sees),
        `loss`, `step`, `time`.
    """
    from dpolab.progress import bar as progress_bar

    config = config or RLConfig()
    if config.sft_coef and not anchor_rows:
        raise ValueError("sft_coef > 0 needs anchor_rows: the pairs whose chosen replies anchor the policy")
    rng = np.random.default_rng(config.seed)
    anchor_rng = np.random.default_rng([config.seed, 1])
    gen = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    reference.eval()
    reward_model.eval()
    policy.eval()            # dropout off: sampled and scored log-probs must agree
    opt = torch.optim.AdamW(policy.parameters(), lr=config.lr, weight_decay=0.0)
    keep = max(1, context_length(policy) - config.max_new_tokens)
    history, start = [], time.perf_counter()
    bar = progress_bar(range(1, config.steps + 1), desc="RLHF (RLOO)", disable=not progress)
    for step in bar:
        pick = rng.choice(len(prompts), size=config.prompts_per_step, replace=False)
        cats = [prompts[i][0] for i in pick for _ in range(config.samples_per_prompt)]
        texts = [prompts[i][1] for i in pick for _ in range(config.samples_per_prompt)]
        replies, ended, batch = rollout(policy, tokenizer, texts, config.max_new_tokens,
                                        config.temperature, gen, keep)
        with torch.no_grad():
            proxy = score(reward_model, tokenizer, texts, replies)                     # (N,)
            ref_logps = _score_batch(reference, batch, grad=False)
        logps = _score_batch(policy, batch, grad=True)                                 # (N,)
        kl = logps.detach() - ref_logps                                                # k1, per reply
        reward = proxy - config.kl_coef * kl
        adv = rloo_advantages(reward.view(config.prompts_per_step, -1)).view(-1)
        loss = rloo_loss(logps, logps.detach(), adv)
        if config.sft_coef:
            pick_anchor = anchor_rng.choice(len(anchor_rows), size=config.prompts_per_step, replace=False)
            nll = anchor_nll(policy, tokenizer, [anchor_rows[i] for i in pick_anchor])
            loss = loss + config.sft_coef * nll
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
        opt.step()
        labels = [judge_reply(c, r, t, e) for c, r, t, e in zip(cats, replies, texts, ended)]
        safety = [lab for c, lab in zip(cats, labels) if c in SAFETY_CATEGORIES]
        metrics = {"step": step, "loss": loss.item(), "reward": proxy.mean().item(),
                   "kl": kl.mean().item(), "objective": reward.mean().item(),
                   "safe": float(np.mean([lab == "safe" for lab in labels])),
                   "safe_safety": float(np.mean([lab == "safe" for lab in safety])) if safety else float("nan"),
                   "broken": float(np.mean([lab == "broken" for lab in labels])),
                   "replies": len(replies), "time": time.perf_counter() - start}
        if config.sft_coef:
            metrics["nll"] = nll.item()
        history.append(metrics)
        bar.set_postfix(reward=f"{metrics['reward']:.2f}", kl=f"{metrics['kl']:.1f}")
        if callback is not None:
            callback(step, metrics)
    return history


# ---------------------------------------------------------------------------------------------
# Cached runs, like every other model of the series


def training_prompts() -> list[tuple[str, str]]:
    """(category, patient message) of every training pair, once each, sorted: the RL prompts."""
    return sorted({(r["category"], r["prompt"]) for r in artifacts.train_rows()})


def policy_dir(progress: bool = True, callback=None, **rl) -> Path:
    """Folder of an RLHF policy trained from the cached reference against the cached reward model
    (`artifacts.reward_model`); keyword args are `RLConfig` fields. Trained once, then loaded."""
    config = RLConfig(**rl)
    ref_dir = artifacts.reference_dir(progress=progress)
    rm = artifacts.reward_model(progress=progress)
    cfg = {"rl": asdict(config), "reference": ref_dir.parent.name, "reward_model": artifacts.model_key(rm),
           "data": artifacts.data_fingerprint("train_pairs.jsonl")}

    def build(d: Path):
        tok = load_tokenizer(ref_dir)
        policy, reference = load_model(ref_dir), load_model(ref_dir)
        history = train_rloo(policy, reference, rm, tok, training_prompts(), config,
                             anchor_rows=artifacts.train_rows() if config.sft_coef else None,
                             callback=callback, progress=progress)
        save(policy, tok, d / "model")
        (d / "history.json").write_text(json.dumps(history))
    return artifacts.cached("rlhf", cfg, build) / "model"


def policy(progress: bool = True, **rl):
    """An RLHF policy, e.g. `rlhf.policy(kl_coef=0.1)`; trained once, then loaded from the cache."""
    return load_model(policy_dir(progress, **rl))


def history(**rl) -> list[dict]:
    """The per-step metrics of `policy(**rl)` (training it first if needed)."""
    return artifacts.history(policy_dir(**rl))


def heldout_proxy(model) -> float:
    """The reward model's mean score of a cached model's audit replies (held-out prompts,
    sampled at temperature 1): the proxy, read on the same replies as the gold audit. Cached."""
    rm = artifacts.reward_model(progress=False)
    config = {"model": artifacts.model_key(model), "reward_model": artifacts.model_key(rm),
              "judge": artifacts.JUDGE_FINGERPRINT}

    def compute():
        samples = artifacts.audit(model)["samples"]
        tok = load_tokenizer(model.name_or_path)
        return score(rm, tok, [s["prompt"] for s in samples], [s["reply"] for s in samples]).mean().item()
    return artifacts.cached_json("proxy-score", config, compute)
