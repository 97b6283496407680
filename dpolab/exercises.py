"""Checkers for the notebook exercises: property tests with feedback that says what went wrong.

Each checker runs a learner's function through a few properties, prints a "✓ ..." line for each
one that holds, and raises AssertionError with a hint on the first that fails. When a failure
matches a common mistake (beta left out, chosen and rejected swapped, a batch mean returned, ...)
the hint names it. A function that still raises NotImplementedError gets guidance instead of a
failure, so a notebook with an unsolved exercise still runs top to bottom. "Eq. N" in the
hints is equation N of the DPO paper, https://arxiv.org/abs/2305.18290.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import expit

from dpolab import bandit
from dpolab.losses import dpo_loss


def _ok(message: str) -> None:
    print(f"✓ {message}")


def _unimplemented(name: str) -> bool:
    print(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code "
          "and run the cell again. (Nothing was checked.)")
    return False


def _to_numpy(value, shape: tuple | None = None) -> np.ndarray:
    """A learner's answer as one float array. A tuple or list of arrays is either the answer
    built row by row (stacked, where that gives the inputs' `shape`) or the answer first and
    more after it, as in (losses, chosen_rewards, rejected_rewards) (the first item)."""
    if value is None:
        _fail("returns a value", None, "your function returned None: does it end without `return`?")
    if isinstance(value, str):
        _fail("returns numbers", None, f"your function returned the text {value[:40]!r}: return "
              "the number(s) themselves (a float, an array or a tensor), not a string.")
    if isinstance(value, (tuple, list)) and value:
        items = [_to_numpy(v) for v in value]
        if all(v.ndim == 0 for v in items):
            return np.stack(items)                  # numbers, one per row
        if len({v.shape for v in items}) == 1 and (len(items),) + items[0].shape == tuple(shape or ()):
            return np.stack(items)                  # rows, e.g. [softmax(row) for row in ...]
        return items[0]                             # e.g. (losses, chosen_rewards, rejected_rewards)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _call_numpy_or_torch(fn: Callable, *args) -> np.ndarray:
    """Call fn with NumPy arrays; if that raises (torch-only code), retry with tensors."""
    try:
        return _to_numpy(fn(*args), np.shape(args[0]))
    except NotImplementedError:
        raise
    except Exception as numpy_error:
        targs = [torch.as_tensor(a, dtype=torch.float64) if isinstance(a, np.ndarray) else a
                 for a in args]
        try:
            return _to_numpy(fn(*targs), np.shape(args[0]))
        except Exception:
            raise numpy_error from None  # the NumPy call's error is the one to read


def _diagnose(got: np.ndarray, candidates: dict[str, np.ndarray]) -> str | None:
    for hint, value in candidates.items():
        if got.shape == value.shape and np.allclose(got, value, atol=1e-6, rtol=1e-5):
            return hint
    return None


def _fail(prop: str, hint: str | None, default: str) -> None:
    raise AssertionError(f"✗ {prop}\n  Hint: {hint or default}")


# ---------------------------------------------------------------------------- DPO loss

def _dpo_inputs(seed: int, n: int = 16):
    g = torch.Generator().manual_seed(seed)
    logps = [-(torch.rand(n, generator=g, dtype=torch.float64) * 20 + 1) for _ in range(4)]
    return logps


def _dpo_mistakes(pc, pr, rc, rr, beta) -> dict[str, np.ndarray]:
    h = (pc - pr) - (rc - rr)
    return {
        "your loss ignores beta: multiply the log-ratio margin by beta before the log-sigmoid, "
        "-log sigma(beta * h).": -F.logsigmoid(h),
        "chosen and rejected look swapped: the margin is h = [log pi(y_w) - log pi_ref(y_w)] "
        "- [log pi(y_l) - log pi_ref(y_l)], chosen (w) first.": -F.logsigmoid(-beta * h),
        "the reference seems to be missing: subtract the reference log-ratio "
        "log pi_ref(y_w) - log pi_ref(y_l).": -F.logsigmoid(beta * (pc - pr)),
        "the sign is off: the loss is MINUS log sigma(beta * h), so it is positive and falls "
        "as the margin grows.": F.logsigmoid(beta * h),
        "you used sigma where the loss needs log sigma: -log sigma(beta * h), "
        "F.logsigmoid is the stable way.": -torch.sigmoid(beta * h),
        "the sign of the reference term looks flipped: h = (policy_w - policy_l) - "
        "(reference_w - reference_l).": -F.logsigmoid(beta * ((pc - pr) + (rc - rr))),
    }


def check_dpo_loss(your_fn: Callable) -> bool:
    """Check `your_fn(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps,
    reference_rejected_logps, beta)`, which should return the per-pair DPO losses (Eq. 7),
    shape (B,), given summed log-probs of shape (B,). Returns True when every property holds.
    """
    pc, pr, rc, rr = _dpo_inputs(0)
    beta = 0.3

    def call(*args):
        return _to_numpy(your_fn(*args), tuple(args[0].shape))

    try:
        got = call(pc, pr, rc, rr, beta)
    except NotImplementedError:
        return _unimplemented("your DPO loss")
    mistakes = {k: v.numpy() for k, v in _dpo_mistakes(pc, pr, rc, rr, beta).items()}
    if got.shape != tuple(pc.shape):
        if got.size == 1:
            mean_hint = _diagnose(got.reshape(()), {k: v.mean() for k, v in mistakes.items()})
            _fail("returns one loss per pair, shape (B,)",
                  "you returned a single number; return the per-pair losses and leave the "
                  "averaging over the batch to the training loop."
                  + (f" (Also: {mean_hint})" if mean_hint else ""), "")
        _fail("returns one loss per pair, shape (B,)", None,
              f"got shape {got.shape} for inputs of shape {tuple(pc.shape)}.")
    _ok("returns one loss per pair, shape (B,)")

    # Policy = reference: every margin is 0 and every loss is log 2.
    at_ref = call(rc.clone(), rr.clone(), rc, rr, beta)
    if not np.allclose(at_ref, math.log(2), atol=1e-6):
        hint = _diagnose(at_ref, {k: v.numpy() for k, v in
                                  _dpo_mistakes(rc, rr, rc, rr, beta).items()})
        _fail("equals log 2 when the policy equals the reference", hint,
              f"got {at_ref[:3]} ...; at policy = reference the margin is 0 and "
              f"-log sigma(0) = log 2 = {math.log(2):.4f}.")
    _ok(f"equals log 2 = {math.log(2):.4f} when the policy equals the reference")

    want = dpo_loss(pc, pr, rc, rr, beta)[0].numpy()
    if not np.allclose(got, want, atol=1e-6, rtol=1e-5):
        _fail("matches the DPO loss on random inputs", _diagnose(got, mistakes),
              "compare your formula with Eq. 7: -log sigma(beta * ([log pi(y_w) - log "
              "pi_ref(y_w)] - [log pi(y_l) - log pi_ref(y_l)])).")
    _ok("matches dpolab.losses.dpo_loss on random inputs")

    # The four log-probs enter only through the margin h.
    shift = torch.linspace(-5, 5, len(pc), dtype=torch.float64)
    moved = call(pc + shift, pr - 2 * shift, rc + shift, rr - 2 * shift, beta)
    if not np.allclose(moved, got, atol=1e-6, rtol=1e-5):
        _fail("depends on the log-probs only through the margin h", None,
              "adding the same amount to log pi(y_w) and log pi_ref(y_w) changed your loss; "
              "only the differences policy - reference should matter.")
    _ok("depends on the log-probs only through the margin h")

    # Larger beta: a sharper loss. It falls faster for correctly ordered pairs (h > 0) and
    # rises for mis-ordered ones.
    h = (pc - pr) - (rc - rr)
    lo, hi = call(pc, pr, rc, rr, 0.1), call(pc, pr, rc, rr, 1.0)
    pos, neg = (h > 0).numpy(), (h < 0).numpy()
    if not (np.all(hi[pos] < lo[pos]) and np.all(hi[neg] > lo[neg])):
        _fail("beta sharpens the loss in the right direction", None,
              "with margin h > 0 a larger beta should give a smaller loss, with h < 0 a larger "
              "one: beta multiplies h inside the log-sigmoid.")
    _ok("larger beta: smaller loss on well-ordered pairs, larger on mis-ordered ones")
    print("All DPO loss checks passed.")
    return True


# ---------------------------------------------------------------------------- optimal policy

def check_optimal_policy(your_fn: Callable) -> bool:
    """Check `your_fn(reference_probs, rewards, beta)`, which should return the KL-tethered
    optimum pi_ref * exp(r / beta) / Z (Eq. 4) along the last axis, for inputs of shape (K,) or
    (P, K). Returns True when every property holds.
    """
    rng = np.random.default_rng(0)
    ref = rng.dirichlet(np.ones(5), size=3)
    rewards = rng.normal(size=(3, 5))
    beta = 0.7
    try:
        got = _call_numpy_or_torch(your_fn, ref, rewards, beta)
    except NotImplementedError:
        return _unimplemented("your optimal policy")

    def softmax(z, axis=-1):
        z = z - z.max(axis, keepdims=True)
        return np.exp(z) / np.exp(z).sum(axis, keepdims=True)

    mistakes = {
        "beta should divide the reward, exp(r / beta): larger beta = tighter tether, closer "
        "to the reference.": softmax(np.log(ref) + rewards * beta),
        "the reference is missing: multiply by pi_ref(y|x) (add log pi_ref to the logits) "
        "before normalizing.": softmax(rewards / beta),
        "normalize each prompt's distribution along the LAST axis (the replies), not across "
        "prompts.": softmax(np.log(ref) + rewards / beta, axis=0),
        "divide by the partition function Z(x) = sum_y pi_ref(y|x) exp(r(x, y) / beta) so the "
        "probabilities sum to 1.": ref * np.exp(rewards / beta),
    }
    if got.shape != ref.shape:
        _fail("returns one probability per prompt and reply", None,
              f"got shape {got.shape} for inputs of shape {ref.shape}.")
    if not np.allclose(got.sum(-1), 1.0, atol=1e-6):
        _fail("each prompt's probabilities sum to 1", _diagnose(got, mistakes),
              f"row sums are {got.sum(-1)}; divide by the partition function Z(x).")
    _ok("each prompt's probabilities sum to 1")
    want = bandit.optimal_policy(ref, rewards, beta)
    if not np.allclose(got, want, atol=1e-6):
        _fail("matches pi_ref * exp(r / beta) / Z", _diagnose(got, mistakes),
              "compare with Eq. 4: pi*(y|x) = pi_ref(y|x) exp(r(x, y) / beta) / Z(x).")
    _ok("matches pi_ref * exp(r / beta) / Z on random inputs")
    loose = _call_numpy_or_torch(your_fn, ref, rewards, 1e4)
    if not np.allclose(loose, ref, atol=1e-3):
        _fail("a very large beta returns the reference", None,
              "as beta grows the tether tightens and pi* should approach pi_ref.")
    _ok("beta -> infinity gives back the reference")
    kls = [float(np.mean(bandit.kl(_call_numpy_or_torch(your_fn, ref, rewards, b), ref)))
           for b in (0.1, 0.5, 2.0, 10.0)]
    if not np.all(np.diff(kls) < 0):
        _fail("KL to the reference shrinks as beta grows", None,
              f"KL at beta = 0.1, 0.5, 2, 10 was {np.round(kls, 4)}; it should fall.")
    _ok("larger beta = smaller KL to the reference (tighter tether)")
    # Numerical stability: tiny beta must not overflow.
    sharp = _call_numpy_or_torch(your_fn, ref, rewards, 1e-3)
    if not np.all(np.isfinite(sharp)):
        _fail("stays finite for tiny beta", None,
              "exp(r / beta) overflows for small beta: subtract the largest logit before "
              "exponentiating (work in log space, as softmax does).")
    _ok("stays finite for tiny beta (computed in log space)")
    print("All optimal-policy checks passed.")
    return True


# ---------------------------------------------------------------------------- Bradley-Terry

def check_bt_prob(your_fn: Callable) -> bool:
    """Check `your_fn(r_a, r_b)`, which should return P(a beats b) = sigma(r_a - r_b)
    elementwise. Returns True when every property holds.
    """
    rng = np.random.default_rng(1)
    r_a, r_b = rng.normal(scale=2, size=20), rng.normal(scale=2, size=20)
    try:
        got = _call_numpy_or_torch(your_fn, r_a, r_b)
    except NotImplementedError:
        return _unimplemented("your Bradley-Terry probability")
    mistakes = {
        "a and b look swapped: P(a beats b) = sigma(r_a - r_b) grows with r_a.": expit(r_b - r_a),
        "rewards live on a log scale: use exp(r_a) / (exp(r_a) + exp(r_b)), not "
        "r_a / (r_a + r_b).": r_a / (r_a + r_b),
        "that is the odds exp(r_a - r_b), not a probability: apply the sigmoid.":
            np.exp(r_a - r_b),
        "sigma(r_a) alone ignores b: the probability depends on the difference "
        "r_a - r_b.": expit(r_a),
    }
    if got.shape != r_a.shape:
        _fail("works elementwise", None, f"got shape {got.shape} for inputs of shape {r_a.shape}.")
    half = _call_numpy_or_torch(your_fn, r_a, r_a.copy())
    if not np.allclose(half, 0.5, atol=1e-6):
        _fail("equal rewards give a coin flip, 0.5", _diagnose(got, mistakes),
              f"got {half[:3]} ...; with r_a = r_b neither reply is preferred.")
    _ok("equal rewards give 0.5")
    back = _call_numpy_or_torch(your_fn, r_b, r_a)
    if not np.allclose(got + back, 1.0, atol=1e-6):
        _fail("P(a > b) + P(b > a) = 1", _diagnose(got, mistakes),
              "one of the two replies is always preferred: the two probabilities must add to 1.")
    _ok("P(a > b) + P(b > a) = 1")
    if not np.allclose(got, expit(r_a - r_b), atol=1e-6):
        _fail("matches sigma(r_a - r_b)", _diagnose(got, mistakes),
              "P(a beats b) = exp(r_a) / (exp(r_a) + exp(r_b)) = sigma(r_a - r_b).")
    _ok("matches sigma(r_a - r_b) on random rewards")
    shifted = _call_numpy_or_torch(your_fn, r_a + 3.0, r_b + 3.0)
    if not np.allclose(shifted, got, atol=1e-6):
        _fail("adding a constant to both rewards changes nothing", None,
              "only the reward difference may matter.")
    _ok("adding a constant to both rewards changes nothing (identifiable up to a constant)")
    print("All Bradley-Terry checks passed.")
    return True


# ---------------------------------------------------------------------------- sequence log-prob

def check_sequence_logp(your_fn: Callable, model, tokenizer, pairs: list[dict] | None = None) -> bool:
    """Check `your_fn(model, tokenizer, prompt, response) -> float`, which should return
    log pi(response + EOS | format_prompt(prompt)): the SUM over the reply tokens and EOS, the
    prompt tokens masked. Compared with `logprobs.response_logps` on a few held-out pairs.
    """
    from dpolab.data import collate_sft, test_pairs, tokenize_sft
    from dpolab.logprobs import per_token_logps, response_logps

    rows = pairs or test_pairs().select(range(4)).to_list()
    texts = [(r["prompt"], r[k]) for r in rows for k in ("chosen", "rejected")][:6]
    # after a whole reply a trained model is all but sure to stop (EOS costs ~1e-5 nats, under the
    # tolerance), so two replies cut after three words, where stopping is unlikely, make EOS count
    texts += [(p, " ".join(y.split()[:3])) for p, y in texts[:2]]

    def one_number(value) -> float:
        value = _to_numpy(value)
        if value.size != 1:
            _fail("returns one number per (prompt, response)", None,
                  f"got {value.size} numbers (shape {value.shape}) for one reply: sum its tokens' "
                  "log-probs into one.")
        return float(value.reshape(()))

    try:
        got = np.array([one_number(your_fn(model, tokenizer, p, y)) for p, y in texts])
    except NotImplementedError:
        return _unimplemented("your sequence log-prob")
    prompts, replies = [p for p, _ in texts], [y for _, y in texts]
    per_tok = response_logps(model, tokenizer, prompts, replies, per_token=True)
    want = np.array([sum(v for _, v in row) for row in per_tok])
    with torch.no_grad():
        batch = collate_sft(tokenize_sft(tokenizer, prompts, replies), tokenizer.pad_token_id)
        everything = per_token_logps(model, batch["input_ids"], batch["attention_mask"],
                                     batch["attention_mask"]).sum(-1).numpy()
    mistakes = {
        "that looks like a MEAN over tokens; DPO uses the SUM, log pi(y|x) = sum_t log pi(y_t | "
        "x, y_<t).": np.array([sum(v for _, v in row) / len(row) for row in per_tok]),
        "the EOS token seems to be missing: append tokenizer.eos_token_id to the reply, the "
        "model must also choose to stop.": np.array([sum(v for _, v in row[:-1]) for row in per_tok]),
        "the prompt tokens seem to be counted too: mask them, only reply tokens (and EOS) "
        "count.": everything,
    }
    def diagnose(values):
        for hint, value in mistakes.items():
            if np.allclose(values, value, atol=1e-3, rtol=1e-4):
                return hint
        return None

    if got.shape != want.shape or not np.all(np.isfinite(got)):
        _fail("returns one finite number per (prompt, response)", None, f"got {got}.")
    if not np.all(got < 0):
        _fail("is negative (a log of a probability below 1)", diagnose(got),
              f"got {np.round(got, 3)}: use log_softmax, not the raw logits.")
    _ok("one negative number per reply")
    if not np.allclose(got, want, atol=1e-3, rtol=1e-4):
        _fail("matches the package's sequence log-prob", diagnose(got),
              f"got {np.round(got, 3)}, expected {np.round(want, 3)}. Position t-1 of the logits "
              "predicts token t: gather log_softmax(logits)[t - 1, ids[t]] for every reply token.")
    _ok("matches logprobs.response_logps (prompt masked, EOS counted, summed)")
    print("All sequence log-prob checks passed.")
    return True
