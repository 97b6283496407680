"""Log-probabilities of completions: per token, and summed over a sequence.

log pi(y | x) = sum_t log pi(y_t | x, y_<t), summed over the completion tokens only (the
response and its EOS); the prompt tokens are masked out. Chosen and rejected replies go through
the model in ONE concatenated forward pass of 2B rows, as in the paper's reference code and TRL.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dpolab.data import collate_pairs, collate_sft, tokenize_pairs, tokenize_sft


def per_token_logps(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    completion_mask: torch.Tensor) -> torch.Tensor:
    """log pi(token_t | tokens_<t) at every completion position, 0 elsewhere.

    Args:
        input_ids: (N, T) right-padded token ids.
        attention_mask: (N, T), 1 on real tokens.
        completion_mask: (N, T), 1 on response and EOS tokens.

    Returns:
        (N, T) float tensor aligned with `input_ids`: entry t is the log-prob of token t given
        the tokens before it, or 0 where `completion_mask` is 0 (so position 0 is always 0).
    """
    logits = model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
    logits = logits[:, :-1, :].float()                                     # (N, T-1, V)
    targets = input_ids[:, 1:]                                             # (N, T-1)
    # log softmax gathered at the target: log pi(y_t | y_<t) = logit_y - logsumexp(logits)
    logps = torch.gather(logits.log_softmax(-1), 2, targets[..., None]).squeeze(-1)
    logps = logps * completion_mask[:, 1:]
    return F.pad(logps, (1, 0))                                            # (N, T)


def sequence_logps(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                   completion_mask: torch.Tensor) -> torch.Tensor:
    """log pi(y | x) = sum over completion tokens of log pi(y_t | x, y_<t); shape (N,)."""
    return per_token_logps(model, input_ids, attention_mask, completion_mask).sum(-1)


def concatenated_forward(model, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """Chosen and rejected log-probs from one forward pass over the 2B-row batch of `collate_pairs`.

    Args:
        batch: `input_ids`, `attention_mask`, `completion_mask`, each (2B, T); rows [0, B) are
            prompt + chosen, rows [B, 2B) prompt + rejected.

    Returns:
        (chosen_logps, rejected_logps), each (B,), summed over completion tokens.
    """
    logps = sequence_logps(model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
    return logps.chunk(2, dim=0)


def _max_length(model, max_length: int | None) -> int:
    cfg = model.config
    n_ctx = getattr(cfg, "n_positions", None) or getattr(cfg, "max_position_embeddings", None)
    return min(max_length or n_ctx, n_ctx)


@torch.no_grad()
def pair_logps(model, tokenizer, prompts: list[str], chosen: list[str], rejected: list[str],
               batch_size: int = 64, max_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Sequence log-probs of many pairs, batched, in eval mode (no dropout, no gradients).

    Over-long pairs lose prompt tokens from the left (see `data.tokenize_pairs`); a response
    that alone does not fit the context raises a ValueError.

    Returns:
        (chosen_logps, rejected_logps), each (N,) float tensors.
    """
    was_training = model.training
    model.eval()
    examples = tokenize_pairs(tokenizer, prompts, chosen, rejected, _max_length(model, max_length))
    w, l = [], []
    for i in range(0, len(examples), batch_size):
        batch = collate_pairs(examples[i:i + batch_size], tokenizer.pad_token_id)
        cw, cl = concatenated_forward(model, batch)
        w.append(cw)
        l.append(cl)
    model.train(was_training)
    return torch.cat(w), torch.cat(l)


@torch.no_grad()
def response_logps(model, tokenizer, prompts: list[str], responses: list[str], batch_size: int = 64,
                   max_length: int | None = None, per_token: bool = False):
    """log pi(response | prompt) for each row, shape (N,).

    With `per_token=True` it returns, for each row, a list of (token_text, logp) pairs over the
    completion (response tokens then EOS), ready for a heatmap.
    """
    was_training = model.training
    model.eval()
    examples = tokenize_sft(tokenizer, prompts, responses, _max_length(model, max_length))
    out = []
    for i in range(0, len(examples), batch_size):
        chunk = examples[i:i + batch_size]
        batch = collate_sft(chunk, tokenizer.pad_token_id)
        tok = per_token_logps(model, batch["input_ids"], batch["attention_mask"], batch["completion_mask"])
        if not per_token:
            out.append(tok.sum(-1))
            continue
        for row, e in zip(tok, chunk):
            start = len(e["prompt_ids"])
            ids = e["completion_ids"]
            out.append([(tokenizer.decode([t]), float(v)) for t, v in zip(ids, row[start:start + len(ids)])])
    model.train(was_training)
    return out if per_token else torch.cat(out)
