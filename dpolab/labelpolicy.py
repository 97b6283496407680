"""A DPO policy trained on your own labels: the recipe for a small set, cached by the labels.

A learner's 40 labels are a set about 60 times smaller than the shipped 2,340 pairs, so one epoch
would barely move the model. The recipe below keeps the series' default loss (DPO at beta 0.1
with the NLL anchor on the chosen reply, from the cached reference and its cached log-probs) and
changes the schedule: smaller batches, several epochs, so 40 labels give `steps(40)` optimizer
steps, at a constant learning rate of 3e-4 (the default run's cosine decay from 6e-4 is tuned for
one pass over 2,772 pairs). The run is keyed by the labels' content (which reply
was preferred in which pair, in any order), so the same labels never train twice: the careful
preset and a learner who agrees with it on every pair share one policy.

    model = labelpolicy.policy(rows)                  # rows: prompt / chosen / rejected
    r = labelpolicy.implicit_rewards(model, rows)     # r_hat of each reply, beta included
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import torch

from dpolab import artifacts, classroom, labels
from dpolab.evaluate import preference_metrics
from dpolab.model import load_model, load_tokenizer, save
from dpolab.train import DPOConfig, train_dpo

MIN_LABELS = 8  # fewer labels than this is not a training set: the notebook says so instead
EPOCHS = 8      # passes over a small label set (see `config`)
BATCH = 8       # pairs per step: 40 labels -> 5 steps an epoch, 40 steps in all
LR = 3e-4       # constant after warm-up


def config() -> DPOConfig:
    """The series' default DPO run, rescheduled for a small set: `EPOCHS` epochs of `BATCH`."""
    return DPOConfig(epochs=EPOCHS, batch_size=BATCH, warmup_steps=5, lr=LR, schedule="constant",
                     eval_every=10_000)


def steps(n_labels: int) -> int:
    """Optimizer steps `policy` takes on `n_labels` labels (one step per batch, every epoch)."""
    return EPOCHS * -(-n_labels // BATCH)


def labels_key(rows: list[dict]) -> str:
    """sha256 (16 hex) of which reply was preferred in which pair, in any order."""
    triples = sorted((r["prompt"], r["chosen"], r["rejected"]) for r in rows if not r.get("skip"))
    return hashlib.sha256(json.dumps(triples).encode()).hexdigest()[:16]


class TooFewLabels(ValueError):
    """Raised (with a plain message) when there are fewer than `MIN_LABELS` labels."""


def policy_dir(rows: list[dict], progress: bool = True, callback=None) -> Path:
    """Folder of the policy trained on `rows` (label rows: prompt, chosen, rejected); built once.

    Raises:
        TooFewLabels: fewer than `MIN_LABELS` labelled (not skipped) rows.
    """
    rows = [{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows if not r.get("skip")]
    if len(rows) < MIN_LABELS:
        raise TooFewLabels(f"{len(rows)} label(s) so far: label at least {MIN_LABELS} pairs "
                           f"(skips do not count) before training on them")
    rows.sort(key=lambda r: (r["prompt"], r["chosen"]))  # the key ignores order; so does training
    cfg, ref_dir = config(), artifacts.reference_dir(progress=progress)

    def build(d: Path):
        tok = load_tokenizer(ref_dir)
        model, ref = load_model(ref_dir), load_model(ref_dir)
        known = artifacts.reference_logps(ref_dir, rows)  # None for text outside the shipped pairs
        history = train_dpo(model, ref, tok, rows, cfg, progress=progress, callback=callback,
                            reference_logps=known)
        save(model, tok, d / "model")
        (d / "history.json").write_text(json.dumps(history))
        (d / "labels.json").write_text(json.dumps(rows))
    return artifacts.cached("label-policy", _key(rows, ref_dir), build) / "model"


def _key(rows: list[dict], ref_dir: Path) -> dict:
    return {"labels": labels_key(rows), "n": len(rows), "dpo": asdict(config()),
            "reference": ref_dir.parent.name}


def is_cached(rows: list[dict]) -> bool:
    """Whether the policy for these labels is built already (then "training" only loads it)."""
    rows = [r for r in rows if not r.get("skip")]
    if len(rows) < MIN_LABELS:
        return False
    entry = artifacts.entry("label-policy", _key(rows, artifacts.reference_dir(progress=False)))
    return (entry / "_entry.json").exists()


def policy(rows: list[dict], progress: bool = True, callback=None):
    """The DPO policy trained on `rows` (eval mode), from the cache after the first time."""
    return load_model(policy_dir(rows, progress, callback))


def implicit_rewards(model, rows: list[dict], reference=None, beta: float | None = None) -> dict:
    """r_hat = beta * (log pi - log pi_ref) (Eq. 5) of each row's chosen and rejected reply.

    Returns {"chosen": (N,) tensor, "rejected": (N,) tensor, "margin": (N,) tensor}, where
    `chosen` is the reply the row prefers.
    """
    beta = DPOConfig().beta if beta is None else beta
    reference = reference if reference is not None else artifacts.reference_model(progress=False)
    tok = load_tokenizer(model.name_or_path)
    with torch.no_grad():
        m = preference_metrics(model, reference, tok, rows, beta=beta, per_pair=True)["per_pair"]
    return {"chosen": m["chosen_rewards"], "rejected": m["rejected_rewards"],
            "margin": m["chosen_rewards"] - m["rejected_rewards"]}


def disagreements(model, rows: list[dict], pairs: list[dict], reference=None) -> list[dict]:
    """The labelled pairs where `rows` prefer the other reply than the clinic's shipped label,
    and what the policy trained on them now says: its implicit rewards (Eq. 5) of the reply the
    reviewer preferred (`r_yours`) and of the clinic's choice (`r_clinic`).

    Returns one dict per disagreement: pair_id, category, prompt, `yours` (the reply preferred),
    `clinic` (the shipped chosen reply), `r_yours`, `r_clinic` and `margin` = r_yours - r_clinic
    (positive: the policy now sides with the reviewer).
    """
    known = {p["pair_id"]: p for p in pairs}
    against = [r for r in rows if not r.get("skip") and r["chosen"] != known[r["pair_id"]]["chosen"]]
    if not against:
        return []
    reference = reference if reference is not None else artifacts.reference_model(progress=False)
    config = {"model": artifacts.model_key(model), "reference": artifacts.model_key(reference),
              "labels": labels_key(against), "order": [r["pair_id"] for r in against]}

    def compute():
        r = implicit_rewards(model, against, reference)
        return [r["chosen"].tolist(), r["rejected"].tolist()]
    r_w, r_l = artifacts.cached_json("label-rewards", config, compute)  # computed once per model
    return [{"pair_id": row["pair_id"], "category": row["category"], "prompt": row["prompt"],
             "yours": row["chosen"], "clinic": row["rejected"], "r_yours": w, "r_clinic": l,
             "margin": w - l}
            for row, w, l in zip(against, r_w, r_l)]


def prepare(progress: bool = True) -> dict:
    """Build (once) what notebook 12 reads from the cache, saying what it builds and how long it
    took: the reference and the default policy (notebooks 05 and 06), the careful and the
    confidence-loving presets' policies on the 40-pair queue with their audits, and the policy of
    the demonstration class's majority vote; plus every held-out evaluation. Returns the models.
    """
    import time

    queue = labels.queue()
    vote = classroom.majority_vote({n: labels.preset_labels(p, queue) for n, p in classroom.DEMO_CLASS.items()},
                                queue)
    steps = {"reference": lambda: artifacts.reference_model(progress=progress),
             "default policy": lambda: artifacts.policy(progress=progress),
             "careful": lambda: policy(labels.preset_labels("careful", queue), progress),
             "likes_confidence": lambda: policy(labels.preset_labels("likes_confidence", queue), progress),
             "demo class": lambda: policy(vote, progress)}
    models = {}
    for name, build in steps.items():
        t0 = time.perf_counter()
        models[name] = model = build()
        if name != "demo class":
            artifacts.audit(model, progress=progress)
        if name != "reference":
            artifacts.heldout_metrics(model)
        if progress:
            print(f"notebook 12 needs {name}: ready ({time.perf_counter() - t0:.1f} s)", flush=True)
    return models
