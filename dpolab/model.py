"""The language model: a byte-level BPE tokenizer, GPT-2 presets, loading, saving, generation.

Everything is built locally in seconds: the tokenizer is trained on our own SFT corpus and the
model is a small `transformers.GPT2LMHeadModel`. A real checkpoint (`"gpt2"`, or any local
folder) goes through the same `load_model` / `load_tokenizer` for users who have one cached.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import torch
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


def train_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> GPT2TokenizerFast:
    """Train a byte-level BPE tokenizer on `texts`, with `<|endoftext|>` as EOS and pad.

    Byte-level means every string can be encoded (no unknown tokens); a corpus made of a few
    templates saturates the vocabulary well below 1024 merges, so the result is often smaller.

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
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(_not_found(name_or_path, "tokenizer")) from err
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

    Nothing is downloaded when `HF_HUB_OFFLINE=1`; a model that is neither a folder nor cached
    raises `ModelNotFoundError` with one sentence that says so.
    """
    try:
        with no_progress_bars():
            model = AutoModelForCausalLM.from_pretrained(str(name_or_path), dtype=dtype,
                                                         **_offline(name_or_path))
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(_not_found(name_or_path, "model")) from err
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


def _not_found(name_or_path, what: str) -> str:
    return (f"No {what} found at {str(name_or_path)!r}: it is not a local folder and could not be "
            f"loaded from the Hugging Face cache or hub (offline, nothing is downloaded); build "
            f"one with `python -m dpolab sft --out DIR` or pass a folder that exists.")


# ---------------------------------------------------------------------------------------------
# Saving


def save(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase | None,
         path: str | os.PathLike) -> Path:
    """Save model (safetensors) and tokenizer to `path` atomically; loads with Auto* alone."""
    with atomic_dir(path) as tmp, no_progress_bars():
        model.save_pretrained(tmp, safe_serialization=True)
        if tokenizer is not None:
            tokenizer.save_pretrained(tmp)
    return Path(path)


# ---------------------------------------------------------------------------------------------
# Generation


@torch.no_grad()
def generate(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: str | list[str],
    max_new_tokens: int = 64,
    temperature: float = 0.0,
    top_k: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    seeds: list[int] | None = None,
    with_ended: bool = False,
) -> str | list[str] | list[tuple[str, bool]]:
    """Reply to patient prompts; returns the response text only, cut at EOS.

    Args:
        prompts: raw patient messages (`format_prompt` is applied here), one string or a list.
        temperature: 0 for greedy decoding, otherwise sample from softmax(logits / temperature).
        top_k: when sampling, keep only the k most likely tokens (None: the full distribution).
        seed: sampling seed; the global RNG is left as it was.
        seeds: one seed per prompt: each row then samples from its own generator, so a row's
            reply does not depend on which other rows share its batch (`seed` is ignored).
        with_ended: also say, per reply, whether it ended with EOS (False: cut at the limit).

    Returns:
        One string per prompt (a single string for a single prompt), or (string, ended) tuples.
    """
    single = isinstance(prompts, str)
    prompts = [prompts] if single else list(prompts)
    eos = tokenizer.eos_token_id
    n_ctx = context_length(model)
    was_training = model.training
    model.eval()
    out: list[str] = []
    gen = torch.Generator().manual_seed(seed)
    if seeds is not None and len(seeds) != len(prompts):
        raise ValueError(f"seeds: expected one per prompt ({len(prompts)}), got {len(seeds)}")
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start:start + batch_size]
        # Keep the end of each prompt so that prompt + reply fits the context (left truncation).
        keep = max(1, n_ctx - max_new_tokens)
        ids = [tokenizer(format_prompt(p, tokenizer), add_special_tokens=False)["input_ids"][-keep:]
               for p in chunk]
        rows = None if seeds is None else \
            [torch.Generator().manual_seed(s) for s in seeds[start:start + batch_size]]
        out.extend(_decode_batch(model, tokenizer, ids, max_new_tokens, temperature, top_k,
                                 rows or gen, eos))
    model.train(was_training)
    if not with_ended:
        out = [text for text, _ in out]
    return out[0] if single else out


def _sample(probs: torch.Tensor, gen, alive: torch.Tensor, n_rows: int,
            noise: "_RowNoise | None" = None) -> torch.Tensor:
    """One token for each of the batch's rows: probs (b, V) belong to rows `alive` (b,) of the
    `n_rows` the call began with (the others have finished and left the batch).

    With one generator per row (`noise` draws from them), row i's token is exactly
    `torch.multinomial(probs_i, 1, generator=gen[i])`. With one generator `gen`, the draw is that
    of `torch.multinomial` over all `n_rows` rows, as if the rows that left were still there: it
    draws one Exp(1) per token and row (see `_RowNoise`), whatever the probabilities, so the rows
    that left get uniform ones and the others' tokens do not change.
    """
    if noise is not None:
        return (probs / noise.wait()[alive]).argmax(-1)  # the exponential race: see `_RowNoise`
    if len(alive) < n_rows:
        full = probs.new_full((n_rows, probs.shape[-1]), 1.0 / probs.shape[-1])
        full[alive] = probs
        return torch.multinomial(full, 1, generator=gen).squeeze(1)[alive]
    return torch.multinomial(probs, 1, generator=gen).squeeze(1)


class _RowNoise:
    """The random numbers of per-row sampling, drawn ahead on two threads.

    `torch.multinomial(p, 1, generator=g)` draws q ~ Exp(1) for each of the V tokens from `g`
    and returns argmax(p / q) (the exponential race). Those draws depend on no logits, only on
    which rows are still writing, so `start(rows)` draws the next step's q for those rows (each
    from its own generator) on two threads while the model runs the next forward pass, and
    `wait()` hands them over. The tokens are those of `torch.multinomial` row by row
    (`tests/test_model.py` checks it); the draws were over a third of an audit's time.
    """

    def __init__(self, gens: list[torch.Generator], vocab: int):
        self.gens, self.q, self.jobs = gens, torch.empty(len(gens), vocab), []

    def start(self, rows: list[int]) -> None:
        def draw(part):
            for i in part:
                self.q[i].exponential_(1, generator=self.gens[i])
        self.jobs = [_POOL.submit(draw, rows[k::2]) for k in range(2)]

    def wait(self) -> torch.Tensor:
        for job in self.jobs:
            job.result()
        return self.q


def _new_pool() -> None:
    """Two threads for `_RowNoise` (torch draws without the GIL). A forked child starts a pool of
    its own: the parent's threads do not exist there, and work handed to them would never run."""
    global _POOL
    _POOL = ThreadPoolExecutor(2, thread_name_prefix="dpolab-sample")


_new_pool()
os.register_at_fork(after_in_child=_new_pool)


def _decode_batch(model, tokenizer, ids, max_new_tokens, temperature, top_k, gen, eos):
    texts = []
    for row in sample_ids(model, tokenizer, ids, max_new_tokens, temperature, top_k, gen):
        ended = bool(row) and row[-1] == eos
        texts.append((tokenizer.decode(row[:-1] if ended else row, skip_special_tokens=True), ended))
    return texts


@torch.no_grad()
def sample_ids(model, tokenizer, ids: list[list[int]], max_new_tokens: int, temperature: float = 1.0,
               top_k: int | None = None, gen=None) -> list[list[int]]:
    """Continue each row of prompt token ids, in one left-padded batch with the KV cache.

    Returns the new token ids of each row, up to and including its first EOS (a row without
    EOS stopped at `max_new_tokens`). `gen` is a torch.Generator, or one per row. Rows that have
    finished leave the batch and its cache, which changes no other row's tokens (an audit's
    replies run 29 tokens on average and the longest in a batch of 256 near 50: about a third
    of the work was rows that had already ended).
    """
    eos = tokenizer.eos_token_id
    gen = torch.Generator().manual_seed(0) if gen is None else gen
    B = len(ids)
    T = max(len(x) for x in ids)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    # Left padding, so every row's next token is at the last position.
    input_ids = torch.full((B, T), pad, dtype=torch.long)
    attn = torch.zeros((B, T), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, T - len(x):] = torch.tensor(x)
        attn[i, T - len(x):] = 1
    position_ids = (attn.cumsum(1) - 1).clamp(min=0)
    done = torch.zeros(B, dtype=torch.bool)
    new_tokens = []
    past = None
    # The KV cache's keyword: `cache` in newer transformers 5 releases, `past_key_values` before.
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model  # a peft model's
    cache_kw = "cache" if "cache" in inspect.signature(inner.forward).parameters else "past_key_values"
    cur_ids, cur_pos = input_ids, position_ids
    alive = torch.arange(B)  # the rows still in the batch (finished rows leave it, below)
    noise = None  # per-row generators: their draws, made ahead (`_RowNoise`)
    for step in range(max_new_tokens):
        outputs = model(input_ids=cur_ids, attention_mask=attn, position_ids=cur_pos,
                        use_cache=True, **{cache_kw: past})
        past = outputs[cache_kw]
        logits = outputs.logits[:, -1, :].float()  # (b, V), b = len(alive)
        if temperature <= 0:
            nxt = logits.argmax(-1)
        else:
            logits = logits / temperature
            if top_k is not None:
                kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            if noise is None and not isinstance(gen, torch.Generator):
                noise = _RowNoise(gen, logits.shape[-1])
                noise.start(alive.tolist())
            nxt = _sample(torch.softmax(logits, -1), gen, alive, B, noise)
        nxt = torch.where(done[alive], eos, nxt)  # finished rows: EOS
        tokens = torch.full((B,), eos, dtype=torch.long)
        tokens[alive] = nxt
        new_tokens.append(tokens)
        done |= tokens == eos
        if done.all():
            break
        if noise is not None and step + 1 < max_new_tokens:
            noise.start((~done).nonzero().flatten().tolist())  # drawn during the next forward
        # Each row's numbers do not depend on the other rows of its batch (rows are computed
        # independently; tests/test_model.py checks it), so finished rows can leave the batch and
        # its KV cache, once a tenth of it has finished (every removal copies the cache).
        keep = (~done[alive]).nonzero().flatten()
        if len(keep) <= 0.9 * len(alive):
            past.batch_select_indices(keep)
            alive, nxt, cur_pos, attn = alive[keep], nxt[keep], cur_pos[keep], attn[keep]
        cur_ids = nxt[:, None]
        cur_pos = cur_pos[:, -1:] + 1
        attn = torch.cat([attn, torch.ones((len(alive), 1), dtype=torch.long)], dim=1)
    gen_ids = torch.stack(new_tokens, dim=1).tolist() if new_tokens else [[] for _ in range(B)]
    return [row[:row.index(eos) + 1] if eos in row else row for row in gen_ids]
