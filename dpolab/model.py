"""The language model: a byte-level BPE tokenizer, GPT-2 presets, loading and saving (replies: `generation`).

Everything is built locally in seconds: the tokenizer is trained on our own SFT corpus and the
model is a small `transformers.GPT2LMHeadModel`. A real checkpoint (`"gpt2"`, or any local
folder) goes through the same `load_model` / `load_tokenizer` for users who have one cached.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors import SafetensorError
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    GPT2TokenizerFast,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)
from transformers.utils import logging as hf_logging

from dpolab.atomic import atomic_dir
from dpolab.data import format_prompt

EOS = "<|endoftext|>"


class ModelNotFoundError(OSError):
    """A model or tokenizer name that is neither a local folder nor in the offline cache."""


# ---------------------------------------------------------------------------------------------
# Tokenizer


# The series' vocabulary: 4,096 byte-level BPE tokens, enough to keep the clinic's medicine,
# procedure and department names whole (with 1,024 rare names split into fragments the model then
# garbled). The notebooks' reference and `python -m dpolab sft` both train this one.
VOCAB_SIZE = 4096


def train_tokenizer(texts: Iterable[str], vocab_size: int = VOCAB_SIZE) -> GPT2TokenizerFast:
    """Train a byte-level BPE tokenizer on `texts`, with `<|endoftext|>` as EOS and pad.

    Byte-level means every string can be encoded (no unknown tokens); a corpus made of a few
    templates may saturate the vocabulary below `vocab_size` merges, so the result can be smaller.

    Returns:
        A `GPT2TokenizerFast` (identical ids to the raw `tokenizers` object) that saves with
        `save_pretrained` and loads again with `AutoTokenizer.from_pretrained(dir)`.
    """
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return GPT2TokenizerFast(
        tokenizer_object=tok, eos_token=EOS, bos_token=EOS, unk_token=EOS, pad_token=EOS,
        model_max_length=1024,
    )


def corpus_texts(rows: Iterable[dict]) -> Iterator[str]:
    """The texts a tokenizer is trained on: each formatted prompt followed by its response."""
    for row in rows:
        yield format_prompt(row["prompt"]) + row["response"]


def load_tokenizer(name_or_path: str | os.PathLike) -> PreTrainedTokenizerBase:
    """Load a tokenizer from a local folder or the offline hub cache; pad falls back to EOS."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(name_or_path), **_offline(name_or_path))
    except Exception as err:   # the `tokenizers` library raises a bare Exception on a broken file
        raise ModelNotFoundError(_not_found(name_or_path, "tokenizer", err)) from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


# ---------------------------------------------------------------------------------------------
# Model


@dataclass(frozen=True)
class GPTConfig:
    """Size of a GPT-2. `vocab_size` is taken from the tokenizer when left at 0."""

    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    n_positions: int = 128
    vocab_size: int = 0
    dropout: float = 0.1

    def to_hf(self, tokenizer: PreTrainedTokenizerBase | None = None) -> GPT2Config:
        vocab = self.vocab_size or len(tokenizer)
        eos = tokenizer.eos_token_id if tokenizer is not None else vocab - 1
        return GPT2Config(
            vocab_size=vocab, n_positions=self.n_positions, n_embd=self.n_embd,
            n_layer=self.n_layer, n_head=self.n_head, resid_pdrop=self.dropout,
            embd_pdrop=self.dropout, attn_pdrop=self.dropout,
            bos_token_id=eos, eos_token_id=eos, pad_token_id=eos,
            # GPT-2's tanh-approximated GELU as one fused kernel: the same function as
            # "gelu_new", in one pass (unfused, its multiplies, pow and tanh took about a tenth
            # of a DPO step in a profile)
            activation_function="gelu_pytorch_tanh",
        )


PRESETS: dict[str, GPTConfig] = {
    # ~1.3M parameters with the 4,096-token vocabulary: SFT (5 epochs) in under two minutes on 2 cores.
    "gpt-tiny": GPTConfig(),
    # ~3.6M parameters: a few times slower, noticeably more fluent.
    "gpt-small": GPTConfig(n_layer=6, n_head=6, n_embd=192, n_positions=256),
}


def preset(name: str = "gpt-tiny", **overrides) -> GPTConfig:
    """A named `GPTConfig`, optionally with some fields changed: `preset("gpt-tiny", dropout=0)`."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def new_model(tokenizer: PreTrainedTokenizerBase, config: GPTConfig | str = "gpt-tiny",
              seed: int = 0) -> GPT2LMHeadModel:
    """A freshly initialized GPT-2 sized for `tokenizer`; same seed, same weights."""
    config = preset(config) if isinstance(config, str) else config
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = GPT2LMHeadModel(config.to_hf(tokenizer))
    return model


def context_length(model, max_length: int | None = None) -> int:
    """The model's context (`n_positions`, or `max_position_embeddings`), or `max_length` if shorter."""
    cfg = model.config
    n_ctx = getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", None)
    return min(max_length or n_ctx, n_ctx)


def n_params(model: torch.nn.Module) -> int:
    """Number of distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())


def load_model(name_or_path: str | os.PathLike, dtype: torch.dtype = torch.float32) -> PreTrainedModel:
    """Load a causal LM from a local folder, or a hub name (e.g. `"gpt2"`) already in the cache.

    Nothing is downloaded when `HF_HUB_OFFLINE=1`; a model that is neither a folder nor cached, or
    a folder it cannot load (a file missing, truncated or damaged), raises `ModelNotFoundError`
    with one sentence that says which.
    """
    try:
        with no_progress_bars():
            model = AutoModelForCausalLM.from_pretrained(str(name_or_path), dtype=dtype,
                                                         **_offline(name_or_path))
    except (OSError, ValueError, SafetensorError) as err:
        raise ModelNotFoundError(_not_found(name_or_path, "model", err)) from err
    model.eval()
    return model


@contextlib.contextmanager
def no_progress_bars() -> Iterator[None]:
    """transformers' progress bars off inside the block, as they were after it: a ~1M-parameter
    model loads and saves in milliseconds, and a bar each time would only clutter the notebooks."""
    was = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was:
            hf_logging.enable_progress_bar()


def _offline(name_or_path) -> dict:
    if Path(name_or_path).is_dir():
        return {}
    offline = os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes")
    return {"local_files_only": True} if offline else {}


def _not_found(name_or_path, what: str, err: BaseException) -> str:
    folder = Path(name_or_path)
    if folder.is_dir():
        needs = {"config.json": "config.json", "model.safetensors": "*.safetensors"} if what == "model" else {}
        missing = [name for name, pattern in needs.items() if not any(folder.glob(pattern))]
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        reason = (f"it has no {' and no '.join(missing)}" if missing
                  else f"a file in it would not load, truncated or damaged? ({first_line})")
        return (f"The folder {str(name_or_path)!r} holds no {what}: {reason}. A folder that "
                f"`python -m dpolab sft` or `save_pretrained` writes has config.json, "
                f"model.safetensors and the tokenizer's files; rebuild it, or pass one that has them.")
    where = ("the Hugging Face cache (HF_HUB_OFFLINE=1: nothing is downloaded; =0 allows it)"
             if _offline(name_or_path) else "the Hugging Face cache or hub")
    return (f"No {what} found at {str(name_or_path)!r}: it is not a local folder and could not be "
            f"loaded from {where}; build one with `python -m dpolab sft --out DIR` or pass a "
            f"folder that exists.")


# ---------------------------------------------------------------------------------------------
# Saving


# What `save` writes (transformers' file names; history.json beside a trained model): a folder
# holding anything else is someone's other work, which replacing the folder would delete.
SAVED_FILES = frozenset({"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                         "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                         "history.json"})


def check_replaceable(path: str | os.PathLike) -> None:
    """Raise FileExistsError, naming what is in the way, unless `path` is new or a folder that a
    save wrote (only `SAVED_FILES`): a save replaces the whole folder, and must lose nothing else."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_dir():
        raise FileExistsError(f"{path} is a file: a model is saved as a folder (choose another name)")
    others = sorted(e.name for e in path.iterdir() if e.name not in SAVED_FILES)
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise FileExistsError(f"{path} holds {shown}, which no saved model has: saving replaces the "
                              f"whole folder, so choose a new one (or move those out)")


def save(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase | None,
         path: str | os.PathLike, extra: dict[str, str] | None = None) -> Path:
    """Save model (safetensors), tokenizer and `extra` ({file name: text}, e.g. history.json) to
    `path` atomically; loads with Auto* alone. `path` must be new or a saved model's folder
    (`check_replaceable`)."""
    check_replaceable(path)
    with atomic_dir(path) as tmp, no_progress_bars():
        model.save_pretrained(tmp, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
        for name, text in (extra or {}).items():
            (tmp / name).write_text(text)
    return Path(path)
