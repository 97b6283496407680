"""The series' artifacts, built once and reused everywhere: the tokenizer, the reference (SFT)
model, DPO policies, reward models, and the audits and held-out metrics of any of them.

Each lives in the disk cache (`dpolab.cache`, re-exported here): its key is a hash of its config,
the package version and a fingerprint of the data it was built from, so a change rebuilds it.

    tok = artifacts.tokenizer()
    ref = artifacts.reference_model()              # SFT on the shipped corpus, ~5 min once (2 cores)
    pol = artifacts.policy(beta=0.1)               # DPO from that reference, ~30 s once
    hist = artifacts.policy_history(beta=0.1)      # its per-step metrics
    res = artifacts.cached_json("my-sweep", {...}, lambda: {...})
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSequenceClassification

from dpolab import clinic, data, evaluate, judge, prompts, replies, scenarios, voices
from dpolab.cache import (BUILT, cache_dir, cached, cached_json, clear, data_fingerprint,  # noqa: F401
                          entry, key, source_fingerprint)
from dpolab.report import describe
from dpolab.data import columns, tokenize_pairs
from dpolab.logprobs import pair_logps, response_logps, tokenized_pair_logps
from dpolab.model import (VOCAB_SIZE, context_length, corpus_texts, load_model, load_tokenizer,
                          new_model, no_progress_bars, preset, save, train_tokenizer)
from dpolab.rewardmodel import RMConfig, train_reward_model
from dpolab.train import DPOConfig, SFTConfig, train_dpo, train_sft

TOKENIZER_VOCAB = VOCAB_SIZE  # the series' tokenizer (`model.VOCAB_SIZE`), shared with the CLI



def sft_rows() -> list[dict]:
    """The shipped SFT corpus, validated, as a list of dicts."""
    return data.shipped_rows("sft_corpus")


def train_rows() -> list[dict]:
    """The shipped training pairs, validated, as a list of dicts."""
    return data.shipped_rows("train_pairs")


def people_rows() -> list[dict]:
    """The 432 training pairs written in people's own words (data card), validated."""
    return data.shipped_rows("people_pairs")


PAIR_FILES = ("train_pairs.jsonl", "people_pairs.jsonl")  # what a DPO run or reward model trains on


def training_pairs() -> tuple[list[dict], list[bool]]:
    """What every DPO run trains on: the template pairs, then the pairs in people's words, and
    for each whether RPO's NLL term trains on its chosen reply (`train_dpo`'s `anchored`): the
    clinic's own replies, yes; the free-text ones, no (the policy should rank them, not write
    them; data card, "Pairs in people's words")."""
    template, people = train_rows(), people_rows()
    return template + people, [True] * len(template) + [False] * len(people)


def test_rows() -> list[dict]:
    """The shipped test pairs, validated, as a list of dicts."""
    return data.shipped_rows("test_pairs")


def _tokenizer_config() -> dict:
    return {"vocab_size": TOKENIZER_VOCAB, "data": data_fingerprint("sft_corpus.jsonl")}


def tokenizer_dir() -> Path:
    def build(d: Path):
        train_tokenizer(corpus_texts(sft_rows()), vocab_size=TOKENIZER_VOCAB).save_pretrained(d)
    return cached("tokenizer", _tokenizer_config(), build)


def tokenizer():
    """The byte-level BPE tokenizer trained on the SFT corpus (a second, once built)."""
    return load_tokenizer(tokenizer_dir())


def _reference_config(config: SFTConfig | None, gpt: str) -> dict:
    return {"sft": asdict(config or SFTConfig()), "gpt": asdict(preset(gpt)),
            "tokenizer": _tokenizer_config(), "data": data_fingerprint("sft_corpus.jsonl")}


def reference_dir(config: SFTConfig | None = None, gpt: str = "gpt-tiny",
                  progress: bool = True) -> Path:
    """Folder of the SFT model (model + tokenizer + history.json); built on first use.
    `SFTConfig(epochs=0)` gives the untrained GPT-2 (its initial weights for `config.seed`)."""
    config = config or SFTConfig()

    def build(d: Path):
        tok = tokenizer()
        model = new_model(tok, gpt, seed=config.seed)
        # epochs=0: no SFT at all, the freshly initialised GPT-2 (a reference that knows nothing)
        history = train_sft(model, tok, sft_rows(), config, progress=progress) if config.epochs else []
        save(model, tok, d / "model")
        (d / "history.json").write_text(json.dumps(history))
    return cached("reference", _reference_config(config, gpt), build) / "model"


def reference_model(config: SFTConfig | None = None, gpt: str = "gpt-tiny", progress: bool = True):
    """The SFT reference model pi_ref (eval mode)."""
    return load_model(reference_dir(config, gpt, progress))


def _dpo_config(kwargs: dict) -> DPOConfig:
    names = {f.name for f in fields(DPOConfig)}
    unknown = set(kwargs) - names
    if unknown:
        raise TypeError(f"unknown DPO option(s) {sorted(unknown)}; choose from {sorted(names)}")
    return DPOConfig(**kwargs)


def _pairs(spec: str) -> tuple[list[dict], list[bool]]:
    """The training pairs a spec names, with `training_pairs`' anchoring: "train" (all),
    "templates" (the template pairs alone, without those in people's words), "biased:0.3" /
    "noisy:0.2" (that many labels flipped), "shortcut" (a cue planted in every rejected reply)
    or "head:160" (the first 160 pairs, for small-data runs)."""
    rows, anchored = training_pairs()
    if spec in ("train", "shortcut"):
        return (rows if spec == "train" else scenarios.shortcut_pairs(rows)), anchored
    if spec == "templates":
        return train_rows(), None
    kind, _, arg = spec.partition(":")
    if kind == "head" and arg.isdigit() and 0 < int(arg) <= len(rows):
        return rows[:int(arg)], anchored[:int(arg)]
    fn = {"biased": scenarios.biased_pairs, "noisy": scenarios.noisy_pairs}.get(kind)
    if fn is None or not arg:
        raise ValueError(f"pairs must be 'train', 'templates', 'biased:F', 'noisy:F', 'shortcut' or "
                         f"'head:N' (1 <= N <= {len(rows)}), got {spec!r}")
    return fn(rows, float(arg)), anchored


def reference_logps(ref_dir: Path, rows: list[dict]):
    """log pi_ref of each row's chosen and rejected reply: two (N,) tensors, or None.

    Every DPO run from one reference needs the same numbers, because the biased and noisy pair
    sets only swap chosen and rejected of the training pairs. They are computed once per
    reference over `training_pairs` (in their order and batches, so a run on those pairs gets
    exactly what `train_dpo` would compute) and looked up by (prompt, reply) text. None when a
    row's text is not among the training pairs.
    """
    def build(d: Path):
        tok, ref, shipped = load_tokenizer(ref_dir), load_model(ref_dir), training_pairs()[0]
        examples = tokenize_pairs(tok, *columns(shipped, "prompt", "chosen", "rejected"),
                                  context_length(ref))
        w, l = tokenized_pair_logps(ref, examples, tok.pad_token_id)
        save_file({"chosen": w.contiguous(), "rejected": l.contiguous()}, str(d / "logps.safetensors"))
    entry_dir = cached("reference-logps", {"reference": ref_dir.parent.name,
                                           "data": data_fingerprint(*PAIR_FILES)}, build)
    table = load_file(str(entry_dir / "logps.safetensors"))
    logp = {}
    for r, w, l in zip(training_pairs()[0], table["chosen"].tolist(), table["rejected"].tolist()):
        logp[r["prompt"], r["chosen"]], logp[r["prompt"], r["rejected"]] = w, l
    try:
        return (torch.tensor([logp[r["prompt"], r["chosen"]] for r in rows]),
                torch.tensor([logp[r["prompt"], r["rejected"]] for r in rows]))
    except KeyError:
        return None


def policy_dir(reference: SFTConfig | None = None, gpt: str = "gpt-tiny", pairs: str = "train",
               progress: bool = True, callback=None, **dpo) -> Path:
    """Folder of a DPO policy trained from the cached reference; keyword args are `DPOConfig` fields.

    `callback(step, metrics)` is passed to `train_dpo` (e.g. a live plot); it runs only when the
    policy is actually trained, not when it is loaded from the cache, and is not part of the key.
    """
    config = _dpo_config(dpo)
    ref_dir = reference_dir(reference, gpt, progress)
    dpo_cfg = asdict(config)
    if config.loss_type != "simpo":
        del dpo_cfg["simpo_gamma"]  # read by SimPO alone: the other runs keep the keys they had
    cfg = {"dpo": dpo_cfg, "reference": _reference_config(reference, gpt), "pairs": pairs,
           "data": data_fingerprint(*PAIR_FILES, "test_pairs.jsonl"),
           "history": 2}   # 2: the held-out evaluations record `eval_dpo_loss` (the weights are as before)

    def build(d: Path):
        tok = load_tokenizer(ref_dir)
        policy, ref = load_model(ref_dir), load_model(ref_dir)
        rows, anchored = _pairs(pairs)
        known = reference_logps(ref_dir, rows) if config.max_length is None else None
        history = train_dpo(policy, ref, tok, rows, config, eval_pairs=test_rows(),
                            progress=progress, callback=callback, reference_logps=known,
                            anchored=anchored)
        save(policy, tok, d / "model")
        (d / "history.json").write_text(json.dumps(history))
    return cached("policy", cfg, build) / "model"


def policy(reference: SFTConfig | None = None, gpt: str = "gpt-tiny", pairs: str = "train",
           progress: bool = True, callback=None, **dpo):
    """A DPO policy, e.g. `policy(beta=0.5, loss_type="ipo")`; trained once, then loaded."""
    return load_model(policy_dir(reference, gpt, pairs, progress, callback, **dpo))


def policy_history(reference: SFTConfig | None = None, gpt: str = "gpt-tiny",
                   pairs: str = "train", **dpo) -> list[dict]:
    """The per-step metrics of `policy(...)` with the same arguments."""
    return history(policy_dir(reference, gpt, pairs, **dpo))


def history(model_dir: Path) -> list[dict]:
    """history.json stored beside a cached model folder."""
    return json.loads((Path(model_dir).parent / "history.json").read_text())


def sweep(betas=(0.01, 0.03, 0.1, 0.3, 1.0), progress: bool = True, **dpo) -> dict:
    """{beta: policy} for a beta sweep (each trained once and cached)."""
    return {b: policy(beta=b, progress=progress, **dpo) for b in betas}


def sft_chosen_baseline(reference: SFTConfig | None = None, gpt: str = "gpt-tiny",
                        config: SFTConfig | None = None, progress: bool = True):
    """Baseline: continue SFT from the reference on the chosen replies only (no rejected ones),
    with the default DPO run's learning rate, batch size, epochs, warm-up and schedule."""
    dpo = DPOConfig()
    config = config or SFTConfig(lr=dpo.lr, epochs=dpo.epochs, batch_size=dpo.batch_size,
                                 warmup_steps=dpo.warmup_steps, schedule=dpo.schedule)
    ref_dir = reference_dir(reference, gpt, progress)
    cfg = {"sft": asdict(config), "reference": _reference_config(reference, gpt),
           "data": data_fingerprint("train_pairs.jsonl")}

    def build(d: Path):
        tok = load_tokenizer(ref_dir)
        model = load_model(ref_dir)
        h = train_sft(model, tok, train_rows(), config, response_column="chosen", progress=progress)
        save(model, tok, d / "model")
        (d / "history.json").write_text(json.dumps(h))
    return load_model(cached("sft-chosen", cfg, build) / "model")


def reward_model(reference: SFTConfig | None = None, gpt: str = "gpt-tiny",
                 config: RMConfig | None = None, progress: bool = True):
    """The explicit Bradley-Terry reward model (GPT-2 body from the reference + scalar head)."""
    config = config or RMConfig()
    ref_dir = reference_dir(reference, gpt, progress)
    cfg = {"rm": asdict(config), "reference": _reference_config(reference, gpt),
           "data": data_fingerprint(*PAIR_FILES)}

    def build(d: Path):
        tok = load_tokenizer(ref_dir)
        rm, h = train_reward_model(load_model(ref_dir), tok, training_pairs()[0], config,
                                   progress=progress)
        save(rm, tok, d / "model")
        (d / "history.json").write_text(json.dumps(h))
    path = cached("reward-model", cfg, build) / "model"
    with no_progress_bars():
        return AutoModelForSequenceClassification.from_pretrained(path).eval()


# ---------------------------------------------------------------------------------------------
# Audits: one per model, computed once, the same numbers in every notebook

AUDIT = {"n_prompts": evaluate.AUDIT_PROMPTS, "n_samples": evaluate.AUDIT_SAMPLES,
         "temperature": 1.0, "seed": 0}
# Replies generated together in an audit of the small GPT-2. The replies are the same at any batch
# size; on 2 cores 256 took 0.8-0.9x the time of 64 and 512 hardly less, and 256 rows' KV cache
# stays under 250 MB. An audit takes 5-8 s (it took 10-11 s, one multinomial call per row and
# token, batches of 64, finished rows kept in the batch).
AUDIT_BATCH = 256


def model_key(model) -> str:
    """The cache key of a model loaded from this cache (the folder above its `model/` folder)."""
    path = Path(getattr(model, "name_or_path", "") or "")
    if path.name != "model" or not (path.parent / "_entry.json").exists():
        raise ValueError(f"model at {str(path)!r} was not loaded from the dpolab cache; use "
                         f"evaluate.audit on it directly (its audit cannot be cached by key)")
    return path.parent.name


# The modules an audit's prompts and labels come from: the judge's rules, the clinic's texts, and
# the grammars of the held-out messages (`voices` adds to `prompts` and wraps `scenarios`).
JUDGE_MODULES = (judge, clinic, prompts, replies, scenarios, voices)
# sha256 of those files, read once when this module is imported (so a running process keys its
# audits by the rules it actually runs): a changed rule or phrasing re-audits.
JUDGE_FINGERPRINT = source_fingerprint(*JUDGE_MODULES)


def _audit_config(model) -> dict:
    """The cache key's fields every audit of a cached model shares: sampling, model, judge."""
    return {**AUDIT, "model": model_key(model), "judge": JUDGE_FINGERPRINT,
            "max_new_tokens": evaluate.AUDIT_MAX_NEW_TOKENS}


def audit(model, greedy: bool = False, progress: bool = True) -> dict:
    """The sampled audit of a cached model (`evaluate.audit` with `AUDIT`): 20 held-out prompts
    per category x 8 replies at temperature 1, each with its fixed seed. Computed once per model
    and judge; `greedy=True` gives the greedy audit (one reply per prompt) instead."""
    config = _audit_config(model)
    if greedy:
        config.update(temperature=0.0, n_samples=1)
    if progress and not (entry("audit", config) / "_entry.json").exists():
        print(f"auditing {describe(model)}: {9 * AUDIT['n_prompts'] * config['n_samples']:,} "
              f"{'greedy' if greedy else 'sampled'} replies, once")
    return cached_json("audit", config, lambda: evaluate.audit(
        model, load_tokenizer(model.name_or_path), scenarios.audit_prompts(AUDIT["n_prompts"]),
        temperature=config["temperature"], n_samples=config["n_samples"], seed=AUDIT["seed"],
        batch_size=AUDIT_BATCH))


def people_audit(model, progress: bool = True) -> dict:
    """`audit`'s sampling and judge on the messages patients wrote in their own words
    (data/people_messages.jsonl, data card; never trained on): 8 replies at temperature 1 to
    each of its 180 messages, grouped by category. Computed once per model and judge."""
    messages: dict[str, list[str]] = {}
    for row in data.shipped_rows("people_messages"):
        messages.setdefault(row["category"], []).append(row["prompt"])
    config = {**_audit_config(model), "data": data_fingerprint("people_messages.jsonl")}
    del config["n_prompts"]
    if progress and not (entry("people-audit", config) / "_entry.json").exists():
        print(f"auditing {describe(model)} on people's messages: "
              f"{sum(map(len, messages.values())) * AUDIT['n_samples']:,} sampled replies, once")
    return cached_json("people-audit", config, lambda: evaluate.audit(
        model, load_tokenizer(model.name_or_path), messages, temperature=AUDIT["temperature"],
        n_samples=AUDIT["n_samples"], seed=AUDIT["seed"], batch_size=AUDIT_BATCH))


HELDOUT_SPLITS = ("test_pairs", "other_words_pairs")   # shipped pairs no model trains on (data card)


def heldout_logps(model, split: str = "test_pairs") -> tuple[torch.Tensor, torch.Tensor]:
    """log pi(y|x) of each pair's chosen and rejected reply under a cached model, for the test
    split or the pairs in other words (`HELDOUT_SPLITS`): two (N,) tensors, exactly what
    `logprobs.pair_logps` returns for `data.shipped_rows(split)`; computed once."""
    if split not in HELDOUT_SPLITS:
        raise ValueError(f"split {split!r}: the held-out pairs are {', '.join(HELDOUT_SPLITS)}")

    def build(d: Path):
        w, l = pair_logps(model, load_tokenizer(model.name_or_path),
                          *columns(data.shipped_rows(split), "prompt", "chosen", "rejected"))
        save_file({"chosen": w.contiguous(), "rejected": l.contiguous()}, str(d / "logps.safetensors"))
    t = load_file(str(cached("heldout-logps", {"model": model_key(model), "data": data_fingerprint(
        f"{split}.jsonl")}, build) / "logps.safetensors"))
    return t["chosen"], t["rejected"]


def heldout_token_logps(model, split: str = "test_pairs", column: str = "chosen") -> torch.Tensor:
    """log pi of every completion token (the reply's tokens, then EOS) of the `column` reply
    ("chosen" or "rejected") of each pair of a held-out split (`HELDOUT_SPLITS`), one row after
    another: a flat (T,) float64 tensor of the values `logprobs.response_logps(..., per_token=True)`
    gives; computed once."""
    if split not in HELDOUT_SPLITS or column not in ("chosen", "rejected"):
        raise ValueError(f"split {split!r}, column {column!r}: the held-out pairs are "
                         f"{', '.join(HELDOUT_SPLITS)}, each with a 'chosen' and a 'rejected' reply")

    def build(d: Path):
        prompts, replies_ = columns(data.shipped_rows(split), "prompt", column)
        scored = response_logps(model, load_tokenizer(model.name_or_path), prompts, replies_, per_token=True)
        flat = torch.tensor([lp for row in scored for _, lp in row], dtype=torch.float32)  # float32 values
        save_file({"logps": flat}, str(d / "logps.safetensors"))
    config = {"model": model_key(model), "column": column, "data": data_fingerprint(f"{split}.jsonl")}
    return load_file(str(cached("heldout-token-logps", config, build) / "logps.safetensors"))["logps"].double()


def heldout_wins(model) -> torch.Tensor:
    """(N,) bool: for each test pair, whether the model's implicit reward ranks the chosen reply
    strictly first against the cached reference (h = (log pi - log pi_ref)(y_w) - (...)(y_l) > 0,
    the sign of Eq. 7's margin for any beta > 0). Its mean is `heldout_metrics`'s
    `rewards/accuracies`; item by item, two models' wins feed `evaluate.mcnemar`."""
    (pw, pl), (rw, rl) = heldout_logps(model), heldout_logps(reference_model(progress=False))
    return (pw - rw) - (pl - rl) > 0


def heldout_metrics(model, reference=None, beta: float = 0.1) -> dict:
    """`evaluate.preference_metrics` (with KL) of a cached model on the test pairs, computed once
    per (model, reference, beta); the reference defaults to the cached SFT model."""
    reference = reference if reference is not None else reference_model(progress=False)
    config = {"model": model_key(model), "reference": model_key(reference), "beta": beta,
              "data": data_fingerprint("test_pairs.jsonl")}
    return cached_json("heldout-metrics", config, lambda: evaluate.preference_metrics(
        model, reference, load_tokenizer(model.name_or_path), test_rows(), beta=beta, kl=True))
