"""Evaluation: how the policy ranks held-out pairs, how far it moved from the reference, and
what it actually says when deployed (the scenario audit).

- `preference_metrics`: implicit-reward accuracy and margins on any pairs, plus the mean
  log-likelihood of chosen and rejected replies under policy and reference (likelihood
  displacement, Razin et al., 2024, https://arxiv.org/abs/2410.08847: DPO may lower both, as
  long as it lowers the rejected one more).
- `kl_to_reference`: mean summed token-level KL(pi || pi_ref) along held-out completions.
- `audit`: generate replies to held-out prompts and label them with `judge.judge_reply`;
  `summarize` gives its headline rates with Wilson intervals.
- Comparing two rates: `separated` (intervals apart, an unpaired test), `gap` (by how much), and
  the paired tests for two models scored on the same items: `mcnemar` (one outcome per item) and
  `paired_difference` (an audit's replies, counted by question).
"""

from __future__ import annotations

import math
import random
import zlib
from collections import Counter

import numpy as np
import torch

from dpolab.data import collate_pairs, columns, pair_lengths, tokenize_pairs
from dpolab.judge import LABELS, judge_reply
from dpolab.logprobs import completion_log_softmax, kl_along_completions, pair_logps
from dpolab.losses import implicit_rewards, reward_metrics
from dpolab.generation import generate
from dpolab.model import context_length
from dpolab.scenarios import CATEGORIES, audit_prompts

# Categories where a wrong reply can hurt someone, and ones where refusing is the failure.
SAFETY_CATEGORIES = ("medication", "preparation", "emergency", "pressure")
ROUTINE_CATEGORIES = ("reschedule", "cancel", "book", "routine_info", "billing")


@torch.no_grad()
def preference_metrics(policy, reference, tokenizer, pairs, beta: float = 0.1,
                       batch_size: int = 64, per_pair: bool = False, kl: bool = False) -> dict:
    """Implicit-reward metrics of `policy` against `reference` on `pairs` (TRL's names).

    Returns:
        A dict of floats: `rewards/accuracies` (strict: 0 when policy = reference),
        `rewards/margins`, `rewards/chosen`, `rewards/rejected`, `logps/chosen`,
        `logps/rejected` (policy, mean summed log-probs), `ref_logps/chosen`,
        `ref_logps/rejected`, and `n`. With `kl=True` also `kl` (see `kl_to_reference`), from the
        same forward passes. With `per_pair=True` also `per_pair`: a dict of (N,) tensors
        `policy_chosen_logps`, `policy_rejected_logps`, `reference_chosen_logps`,
        `reference_rejected_logps`, `chosen_rewards`, `rejected_rewards`.
    """
    prompts, chosen, rejected = columns(pairs, "prompt", "chosen", "rejected")
    if kl:
        pw, pl, rw, rl, kls = _logps_and_kl(policy, reference, tokenizer, prompts, chosen, rejected,
                                            batch_size)
    else:
        pw, pl = pair_logps(policy, tokenizer, prompts, chosen, rejected, batch_size)
        rw, rl = pair_logps(reference, tokenizer, prompts, chosen, rejected, batch_size)
    r_w, r_l = implicit_rewards(pw, pl, rw, rl, beta)  # r_hat = beta * log(pi / pi_ref)
    out = {**reward_metrics(r_w, r_l, pw, pl),
           "ref_logps/chosen": rw.mean().item(), "ref_logps/rejected": rl.mean().item(),
           "n": len(prompts)}
    if kl:
        out["kl"] = kls.mean().item()
    if per_pair:
        out["per_pair"] = {"policy_chosen_logps": pw, "policy_rejected_logps": pl,
                           "reference_chosen_logps": rw, "reference_rejected_logps": rl,
                           "chosen_rewards": r_w, "rejected_rewards": r_l}
    return out


def _logps_and_kl(policy, reference, tokenizer, prompts, chosen, rejected, batch_size: int):
    """One forward of each model per batch: summed log-probs of both replies under each, and
    the per-pair KL (mean of the chosen and rejected completions'). Five (N,) tensors."""
    policy.eval()
    reference.eval()
    examples = tokenize_pairs(tokenizer, prompts, chosen, rejected, context_length(policy),
                              what="held-out pair")
    lengths = pair_lengths(examples)
    order = sorted(range(len(examples)), key=lengths.__getitem__)
    out = torch.zeros(5, len(examples))     # rows: pw, pl, rw, rl, kl; batches of similar length
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        batch = collate_pairs([examples[j] for j in idx], tokenizer.pad_token_id)
        logp, seq = completion_log_softmax(policy, batch)
        ref_logp, ref_seq = completion_log_softmax(reference, batch)
        kl = kl_along_completions(logp, ref_logp, batch)                   # (2b,)
        out[:, idx] = torch.stack([*seq.chunk(2), *ref_seq.chunk(2), kl.view(2, -1).mean(0)])
    return tuple(out)


def kl_to_reference(policy, reference, tokenizer, pairs, batch_size: int = 64) -> float:
    """Mean over held-out prompts of sum_t KL(pi(.|x, y_<t) || pi_ref(.|x, y_<t)).

    The sum runs over the completion tokens of each pair's chosen and rejected reply (teacher
    forcing, exact over the vocabulary), and the two are averaged per prompt: the same estimate
    as `eval_kl` in the DPO history. It is 0 when policy = reference.
    """
    prompts, chosen, rejected = columns(pairs, "prompt", "chosen", "rejected")
    return _logps_and_kl(policy, reference, tokenizer, prompts, chosen, rejected, batch_size)[4].mean().item()


AUDIT_PROMPTS = 20      # held-out prompts per category
AUDIT_SAMPLES = 8       # sampled replies per prompt: 160 per category
AUDIT_MAX_NEW_TOKENS = 96


def sample_seed(seed: int, prompt: str, k: int) -> int:
    """The fixed seed of the k-th sampled reply to `prompt`: the same in every audit and batch."""
    return zlib.crc32(f"{seed}|{k}|{prompt}".encode())


def audit(model, tokenizer, prompts: dict[str, list[str]] | None = None, *,
          temperature: float = 0.0, n_samples: int = 1, seed: int = 0,
          max_new_tokens: int = AUDIT_MAX_NEW_TOKENS, judge=judge_reply,
          batch_size: int = 64) -> dict:
    """Generate replies to held-out prompts and label each with `judge.judge_reply`.

    Each sampled reply has its own seed (`sample_seed(seed, prompt, k)`), so a prompt's replies
    do not depend on which other prompts are audited with it.

    Args:
        prompts: {category: [prompt, ...]}; default `scenarios.audit_prompts(AUDIT_PROMPTS)`
            (test-only phrasings, never seen in training).
        temperature: 0 for greedy decoding (then one reply per prompt), else sampling.
        n_samples: replies per prompt when sampling.
        judge: `(category, reply, prompt, ended) -> label`; `realmodel.judge_open` for a real
            model's open-vocabulary replies.
        batch_size: replies generated together; the replies do not depend on it (each row has
            its own seed), only the speed and memory do.

    Returns:
        `{"rates": {category: {label: fraction}}, "samples": [{category, prompt, reply, label}],
        "summary": {...}}` with labels from `judge.LABELS`; see `summarize` for the summary.
    """
    prompts = prompts if prompts is not None else audit_prompts(AUDIT_PROMPTS)
    n = 1 if temperature <= 0 else n_samples
    flat = [(c, p, k) for c, ps in prompts.items() for p in ps for k in range(n)]
    replies = generate(model, tokenizer, [p for _, p, _ in flat], max_new_tokens=max_new_tokens,
                       temperature=temperature, with_ended=True, batch_size=batch_size,
                       seeds=[sample_seed(seed, p, k) for _, p, k in flat])
    samples = [{"category": c, "prompt": p, "reply": r, "ended": ended,
                "label": judge(c, r, p, ended)}
               for (c, p, _), (r, ended) in zip(flat, replies)]
    rates = {}
    for c in prompts:
        labels = Counter(s["label"] for s in samples if s["category"] == c)
        total = sum(labels.values())
        rates[c] = {lab: labels.get(lab, 0) / total for lab in LABELS}
    return {"rates": rates, "samples": samples, "summary": summarize(samples)}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval (95% for z = 1.96) of a rate of k successes in n trials."""
    if not 0 <= k <= n:
        raise ValueError(f"a rate needs 0 <= k <= n, got k={k} successes in n={n} trials")
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(samples, categories, labels) -> dict:
    """{"rate", "lo", "hi", "k", "n"}: share of `samples` in `categories` labelled one of `labels`,
    with its Wilson 95% interval."""
    labels = (labels,) if isinstance(labels, str) else tuple(labels)
    hits = [s["label"] in labels for s in samples if s["category"] in categories]
    return counted(sum(hits), len(hits))


def counted(k: int, n: int) -> dict:
    """k of n as a rate with its Wilson 95% interval: {"rate", "lo", "hi", "k", "n"} (rate NaN
    when n is 0)."""
    lo, hi = wilson(k, n)
    return {"rate": k / n if n else float("nan"), "lo": lo, "hi": hi, "k": k, "n": n}


def accuracy_rate(metrics: dict) -> dict:
    """Held-out pair accuracy (`rewards/accuracies` of `preference_metrics` over its `n` pairs) as
    a rate like `rate`'s: {"rate", "lo", "hi", "k", "n"}, with its Wilson 95% interval."""
    return counted(round(metrics["rewards/accuracies"] * metrics["n"]), metrics["n"])


def positive_rate(margins) -> dict:
    """How often a reward margin r(x, y_w) - r(x, y_l) is strictly positive (the pair ranked
    right; a tie counts as a miss, as in `rewards/accuracies`), as `counted`'s dict.
    margins: (n,) tensor or array."""
    return counted(int((margins > 0).sum()), len(margins))


def goal_verdict(r: dict, op: str, goal: float) -> str:
    """Judge a rate against a goal ("rate >= goal" or "rate <= goal") by its whole 95% interval:
    "met" or "missed" when the interval lies on one side of the goal, else "straddles" (the audit
    cannot tell on which side the model is)."""
    if op not in (">=", "<="):
        raise ValueError(f"op must be '>=' or '<=', got {op!r}")
    good, bad = (r["lo"] >= goal, r["hi"] < goal) if op == ">=" else (r["hi"] <= goal, r["lo"] > goal)
    return "met" if good else "missed" if bad else "straddles"


def _by_question(samples, categories, labels) -> dict[tuple, list[bool]]:
    """{(category, prompt): [reply labelled one of `labels`, ...]} in the audit's order."""
    out: dict[tuple, list[bool]] = {}
    for s in samples:
        if s["category"] in categories:
            out.setdefault((s["category"], s["prompt"]), []).append(s["label"] in labels)
    return out


def clustered_rate(samples, categories, labels, z: float = 1.96) -> dict:
    """`rate(...)` with an interval that allows for replies to the same prompt being alike.

    An audit samples several replies per prompt, and replies to one prompt tend to share their
    label, so they are not independent draws: the Wilson interval of `rate` treats n replies as n
    pieces of evidence and is too narrow for a claim about prompts *like* these. Here the rate's
    variance comes from the spread between the m prompts (the cluster-robust variance of a ratio,
    var = m / (m - 1) * sum_i (k_i - p n_i)^2 / n^2, with k_i of the prompt's n_i replies labelled
    one of `labels`), and the Wilson interval is taken at the effective sample size
    n_eff = p (1 - p) / var (Kish: n over the design effect), at most n. When every reply has the
    same label the spread says nothing, and n_eff = m (as if each prompt's replies were one); when
    every prompt has exactly the pooled rate, n_eff = n.

    Returns `rate`'s keys plus `prompts` (m), `n_eff` and `design_effect` (n / n_eff).
    """
    labels = (labels,) if isinstance(labels, str) else tuple(labels)
    per_prompt = _by_question(samples, categories, labels)
    k = np.array([sum(v) for v in per_prompt.values()], dtype=float)           # (m,)
    n_i = np.array([len(v) for v in per_prompt.values()], dtype=float)         # (m,)
    m, n = len(k), n_i.sum()
    if m < 2:
        raise ValueError(f"clustered_rate needs replies to at least 2 prompts, got {m}")
    p = k.sum() / n
    var = m / (m - 1) * float(((k - p * n_i) ** 2).sum()) / n ** 2
    n_eff = min(n, p * (1 - p) / var) if var > 0 else float(m) if p in (0.0, 1.0) else n
    lo, hi = wilson(p * n_eff, n_eff, z)
    return {"rate": p, "lo": lo, "hi": hi, "k": int(k.sum()), "n": int(n), "prompts": m,
            "n_eff": n_eff, "design_effect": n / n_eff}


def summarize(samples) -> dict:
    """Headline rates of an audit, each `rate(...)`'s dict: `safe/<category>`, `safe/safety`
    (pooled over `SAFETY_CATEGORIES`), `safe/worst` (the lowest of those four), `safe/routine`,
    `over_refusal/routine`, `broken` and `off_topic` (all categories), and `fluent` (not broken)."""
    cats = [c for c in CATEGORIES if any(s["category"] == c for s in samples)]
    out = {f"safe/{c}": rate(samples, (c,), "safe") for c in cats}
    safety = [c for c in SAFETY_CATEGORIES if c in cats]
    out["safe/safety"] = rate(samples, safety, "safe")
    if safety:
        out["safe/worst"] = min((out[f"safe/{c}"] for c in safety), key=lambda r: r["rate"])
    out["safe/routine"] = rate(samples, ROUTINE_CATEGORIES, "safe")
    out["over_refusal/routine"] = rate(samples, ROUTINE_CATEGORIES, "over_refusal")
    out["broken"] = rate(samples, cats, "broken")
    out["off_topic"] = rate(samples, cats, "off_topic")
    out["fluent"] = rate(samples, cats, [lab for lab in LABELS if lab != "broken"])
    return out


def separated(a: dict, b: dict) -> bool:
    """True when two rates' intervals do not overlap (a difference the audit can claim): the Wilson
    intervals of `rate`, or the prompt-clustered ones of `clustered_rate`."""
    return a["lo"] > b["hi"] or b["lo"] > a["hi"]


def gap(a: dict, b: dict) -> float:
    """How far apart two rates' intervals are: > 0 when they do not overlap (by that much), <= 0
    when they do (by minus that much)."""
    return max(a["lo"], b["lo"]) - min(a["hi"], b["hi"])


def mcnemar(hits_a, hits_b) -> dict:
    """Exact McNemar test of two models scored right/wrong on the same items (pairs, questions).

    Only the discordant items tell the models apart: `a_only` (a right, b wrong) and `b_only`. If
    neither model is better, each discordant item is a fair coin, so the two-sided p-value is
    min(1, 2 * P(Binomial(a_only + b_only, 1/2) <= min(a_only, b_only))). Pairing makes it
    sharper than comparing two Wilson intervals: the items both get right or both get wrong, and
    their sampling noise, cancel.

    hits_a, hits_b: (n,) booleans, item by item in the same order.
    Returns {"a_only", "b_only", "n", "diff" (rate a - rate b), "p"}.
    """
    a, b = np.asarray(hits_a, dtype=bool), np.asarray(hits_b, dtype=bool)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"mcnemar needs two 1-d outcome arrays of one length, got {a.shape} and {b.shape}")
    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    d, low = a_only + b_only, min(a_only, b_only)
    tail = sum(math.comb(d, i) for i in range(low + 1)) / 2 ** d if d else 1.0
    return {"a_only": a_only, "b_only": b_only, "n": len(a),
            "diff": (a_only - b_only) / len(a) if len(a) else float("nan"), "p": min(1.0, 2 * tail)}


def paired_difference(samples_a, samples_b, categories, labels, z: float = 1.96) -> dict:
    """Rate of model a minus rate of model b on the same audit (the same questions, the k-th reply
    to a question drawn with the same seed), with a 95% interval counted by question.

    Each question i contributes d_i = k_a,i - k_b,i (its replies labelled one of `labels`, a's
    minus b's) out of n_i replies. The difference is D = sum_i d_i / n, and its variance the
    cluster-robust one of `clustered_rate`, now of the differences: var = m / (m - 1) *
    sum_i (d_i - D n_i)^2 / n^2, over the m questions. Pairing removes what the two models share
    on a question (how hard it is); counting by question allows for a question's replies being
    alike. With one reply per question it is the paired-t standard error, s_d / sqrt(m). The
    interval is D +- z sqrt(var) (normal; with 80 questions or more, as in an audit, close enough).

    Returns {"diff", "lo", "hi", "prompts" (m), "n", "mcnemar"}: `mcnemar` of the replies, reply
    by reply, treats them as independent, so it speaks of these questions only; the interval, of
    questions like them.
    """
    labels = (labels,) if isinstance(labels, str) else tuple(labels)
    qa, qb = _by_question(samples_a, categories, labels), _by_question(samples_b, categories, labels)
    if qa.keys() != qb.keys() or any(len(qa[q]) != len(qb[q]) for q in qa):
        raise ValueError("paired_difference needs two audits of the same questions, with as many replies "
                         f"to each: {len(qa)} and {len(qb)} questions in {categories}")
    if len(qa) < 2:
        raise ValueError(f"paired_difference needs replies to at least 2 questions, got {len(qa)}")
    d = np.array([sum(qa[q]) - sum(qb[q]) for q in qa], dtype=float)            # (m,)
    n_i = np.array([len(qa[q]) for q in qa], dtype=float)                        # (m,)
    m, n = len(d), n_i.sum()
    diff = d.sum() / n
    half = z * math.sqrt(m / (m - 1) * float(((d - diff * n_i) ** 2).sum()) / n ** 2)
    flat_a, flat_b = [h for q in qa for h in qa[q]], [h for q in qa for h in qb[q]]
    return {"diff": float(diff), "lo": float(diff - half), "hi": float(diff + half), "prompts": m,
            "n": int(n), "mcnemar": mcnemar(flat_a, flat_b)}


def sample_table(audit_result: dict, k: int = 2, seed: int = 0) -> list[dict]:
    """Up to `k` random samples per category (category, prompt, reply, label) for display."""
    rng = random.Random(seed)
    out = []
    by_cat: dict[str, list[dict]] = {}
    for s in audit_result["samples"]:
        by_cat.setdefault(s["category"], []).append(s)
    for c, rows in by_cat.items():
        out.extend(rng.sample(rows, min(k, len(rows))))
    return out


def format_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Plain-text table of dict rows (floats to 2 decimals), for terminals and notebooks."""
    if not rows:
        return ""
    columns = columns or list(rows[0])
    cells = [[c for c in columns]] + [[f"{r[c]:.2f}" if isinstance(r[c], float) else str(r[c])
                                        for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells)
