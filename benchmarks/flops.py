"""Achieved FLOP/s of dpolab's DPO training step, as a fraction of this machine's matmul FLOP/s.

FLOPs are counted analytically for a GPT-2 with L layers, width d and vocabulary V, where
P_b = 12 L d^2 are the weights that multiply activations in the blocks (Conv1D/linear; embedding
look-ups, biases, layer norms and softmaxes are not counted). Two counts per step:

- **performed**: what dpolab's step actually computes. `logprobs.sequence_logps` runs the
  rows in length buckets (n_b rows cut to length T_b) and applies the LM head only at the M
  positions that predict a completion token:
      F_fwd = sum_b (2 P_b n_b T_b + 4 L n_b T_b^2 d)  +  2 V d M
- **textbook**: the same step done the plain way on the padded (N, T) batch, the LM head at
  every position: F_fwd = 2 (P_b + V d) N T + 4 L N T^2 d

    F_step = 3 F_fwd (policy forward + backward, backward ~ 2 forward)
             + F_fwd when the reference log-probs are not cached (one no-grad forward)

The achieved rate is performed FLOPs / step time; textbook FLOPs / step time is the rate a
plain implementation would need to match this step. The reference rate is a large fp32
`torch.matmul` (2 n^3 FLOPs, n = 2048 by default), timed in the same process, same threads,
taking turns with the DPO steps one call at a time; rates are medians over `--repeats` rounds.

    python benchmarks/flops.py [--write-readme]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _common as C  # noqa: I001
import torch

from dpo_step import Ours, Setup
from dpolab.logprobs import ROWS_PER_BUCKET, length_buckets


def block_weights(model) -> int:
    """P_b: the Conv1D/Linear weights of the blocks (12 L d^2 for GPT-2)."""
    return sum(m.weight.numel() for m in model.transformer.h.modules()
               if type(m).__name__ in ("Conv1D", "Linear"))


def step_flops(model, batch: dict, cached: bool, textbook: bool = False) -> float:
    """FLOPs of one DPO step on `batch` (see the module docstring)."""
    cfg = model.config
    L, d, V = cfg.n_layer, cfg.n_embd, cfg.vocab_size
    if textbook:
        N, T = batch["input_ids"].shape
        fwd = 2 * (block_weights(model) + V * d) * N * T + 4 * L * N * T * T * d
    else:
        fwd = sum(2 * block_weights(model) * len(idx) * T + 4 * L * len(idx) * T * T * d
                  for idx, T in length_buckets(batch["attention_mask"]))
        fwd += 2 * V * d * int(batch["completion_mask"][:, 1:].sum())
    return (3 + (0 if cached else 1)) * fwd


def measure(batch_size: int = 16, steps: int = 8, repeats: int = 5, n: int = 2048,
            tiny: bool = False) -> dict:
    setup = Setup(batch_size, steps, tiny=tiny)
    model = setup.fresh()
    runners = {"cached": Ours(setup, cached=True), "uncached": Ours(setup, cached=False)}

    class Matmul:  # one "step" = one n x n matmul, so it takes turns with the DPO steps
        a, b = torch.randn(n, n), torch.randn(n, n)

        def step_at(self, i):
            torch.matmul(self.a, self.b)

    runners = {f"step/{tag}": r for tag, r in runners.items()} | {"matmul": Matmul()}
    for r in runners.values():  # warm-up
        r.step_at(0)
    res = C.interleave_steps(runners, len(setup.batches), repeats)
    peak = 2 * n ** 3 / C.median(res["matmul"]["wall"])
    rows = []
    for tag in ("cached", "uncached"):
        wall = res[f"step/{tag}"]["wall"]
        batches = [setup.batches[i % len(setup.batches)] for i in range(len(wall))]
        done = [step_flops(model, b, cached=(tag == "cached")) for b in batches]
        plain = [step_flops(model, b, cached=(tag == "cached"), textbook=True) for b in batches]
        rate = C.median([f / t for f, t in zip(done, wall)])
        rows.append({"reference": tag, "flops_per_step": sum(done) / len(done),
                     "textbook_flops_per_step": sum(plain) / len(plain),
                     "achieved_flops": rate, "fraction_of_matmul": rate / peak,
                     "pairs_per_s": batch_size / C.median(wall)})
    cfg = model.config
    return {"when": C.stamp(), "machine": C.machine(), "batch_size": batch_size, "steps": steps,
            "repeats": repeats, "matmul_n": n, "matmul_flops": peak,
            "block_weights_P": block_weights(model), "n_params": sum(p.numel() for p in model.parameters()),
            "config": {"n_layer": cfg.n_layer, "n_embd": cfg.n_embd, "vocab_size": cfg.vocab_size},
            **setup.tokens(), "step_seconds": res,
            "rows": rows}


def markdown(res: dict) -> str:
    m = res["machine"]
    rows = [[r["reference"], f"{r['flops_per_step'] / 1e9:.2f}", f"{r['textbook_flops_per_step'] / 1e9:.2f}",
             f"{r['achieved_flops'] / 1e9:.1f}", f"{res['matmul_flops'] / 1e9:.1f}",
             f"{100 * r['fraction_of_matmul']:.1f}%"]
            for r in res["rows"]]
    head = C.table(["reference log-probs", "GFLOP per step (performed)", "GFLOP per step (textbook)",
                    "achieved GFLOP/s", f"{res['matmul_n']}x{res['matmul_n']} matmul GFLOP/s",
                    "fraction"], rows)
    return (f"{head}\n\nPerformed: length buckets of about {ROWS_PER_BUCKET} rows, LM head only at "
            f"completion positions; textbook: the padded batch of N = {res['rows_per_batch']:.0f} rows x "
            f"T = {res['mean_T']:.0f} tokens on average, LM head everywhere (formulas in "
            f"`benchmarks/flops.py`). P_b = {res['block_weights_P'] / 1e6:.2f}M block weights, "
            f"L = {res['config']['n_layer']}, d = {res['config']['n_embd']}, V = {res['config']['vocab_size']}. "
            f"Achieved = performed / step time. Batch {res['batch_size']} pairs, "
            f"median of {res['repeats']} interleaved rounds; {m['cpus']} cores, {m['torch_threads']} torch "
            f"threads, load average {m.get('loadavg_1m', '?')} at the end ({res['when']}).")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--matmul-n", type=int, default=2048)
    ap.add_argument("--tiny", action="store_true", help="a 1-layer model and a small matmul (smoke test)")
    ap.add_argument("--out", type=Path, default=C.RESULTS)
    ap.add_argument("--write-readme", action="store_true")
    a = ap.parse_args(argv)
    res = measure(a.batch_size, a.steps, a.repeats, a.matmul_n, tiny=a.tiny)
    md = markdown(res)
    C.publish("flops", "flops", md, res, a.out, a.write_readme)
    return res


if __name__ == "__main__":
    main()
