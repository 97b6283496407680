"""Generation: replies sampled from a causal LM, in left-padded batches with the KV cache.

`generate` replies to raw patient messages (greedy, or sampled with one seed per reply so that a
reply never depends on the batch it was drawn in); `sample_ids` is the loop under it, shared with
RLHF's rollouts (`rlhf.rollout`). Finished rows leave the batch, and per-row random draws are made
ahead on two threads; neither changes a single token (tests/test_model.py).
"""

from __future__ import annotations

import inspect
import os
from concurrent.futures import ThreadPoolExecutor

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from dpolab.data import format_prompt
from dpolab.model import context_length


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
        max_new_tokens: at most this many reply tokens; a prompt keeps its last
            (context - max_new_tokens) tokens, so a reply can always be written in full.
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
    n_ctx = context_length(model)
    if not 0 <= max_new_tokens < n_ctx:
        raise ValueError(f"max_new_tokens must be 0 to {n_ctx - 1}: the reply and at least one token "
                         f"of the prompt share the model's context of {n_ctx} tokens, got {max_new_tokens}")
    if top_k is not None and not (float(top_k).is_integer() and top_k >= 1):
        raise ValueError(f"top_k must be a whole number >= 1, or None for the full distribution "
                         f"(what top_k=0 means in transformers' generate), got {top_k!r}")
    was_training = model.training
    model.eval()
    out: list[str] = []
    gen = torch.Generator().manual_seed(seed)
    if seeds is not None and len(seeds) != len(prompts):
        raise ValueError(f"seeds: expected one per prompt ({len(prompts)}), got {len(seeds)}")
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start:start + batch_size]
        ids = prompt_ids(tokenizer, chunk, keep=max(1, n_ctx - max_new_tokens))
        rows = None if seeds is None else \
            [torch.Generator().manual_seed(s) for s in seeds[start:start + batch_size]]
        out.extend(decode_reply(tokenizer, row) for row in
                   sample_ids(model, tokenizer, ids, max_new_tokens, temperature, top_k, rows or gen))
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


def prompt_ids(tokenizer, texts: list[str], keep: int) -> list[list[int]]:
    """Token ids of each formatted patient message, cut to its last `keep` tokens (left
    truncation, so that prompt + reply fits the context)."""
    return [tokenizer(format_prompt(t, tokenizer), add_special_tokens=False)["input_ids"][-keep:]
            for t in texts]


def decode_reply(tokenizer, row: list[int]) -> tuple[str, bool]:
    """(reply text, ended with EOS) from one row of `sample_ids`."""
    ended = bool(row) and row[-1] == tokenizer.eos_token_id
    return tokenizer.decode(row[:-1] if ended else row, skip_special_tokens=True), ended


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
                kth = torch.topk(logits, min(int(top_k), logits.shape[-1]), dim=-1).values[:, -1:]
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
