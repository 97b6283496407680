"""Achieved FLOP/s of dpolab's DPO training step, as a fraction of this machine's matmul FLOP/s.

FLOPs are counted analytically, on the padded (N, T) batch the model actually processes
(N = 2B rows: chosen and rejected), for a GPT-2 with L layers, width d and vocabulary V:

    P      = weights that multiply activations: the Conv1D (linear) weights of every block
             (12 L d^2 for GPT-2) plus the LM head V d; embedding look-ups, biases, layer norms
             and softmaxes are not counted
    F_fwd  = 2 P N T  +  4 L N T^2 d     (matmuls, plus Q K^T and attention-weighted V:
                                          2 N T^2 d each per layer, the full T x T block)
    F_step = 3 F_fwd  (policy forward + backward, backward ~ 2 forward)
             + F_fwd  when the reference log-probs are not cached (one no-grad forward)

The reference rate is a large fp32 `torch.matmul` (2 n^3 FLOPs, n = 2048 by default), timed in the
same process, same threads, taking turns with the DPO steps one call at a time; both rates are
medians over `--repeats` rounds of single calls/steps.

    python benchmarks/flops.py [--write-readme]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _common as C  # noqa: I001
import torch

from dpo_step import Ours, Setup


def matmul_weights(model) -> int:
    """P: the Conv1D/Linear weights of the blocks plus the LM head (counted even though tied)."""
    blocks = sum(m.weight.numel() for m in model.transformer.h.modules()
                 if type(m).__name__ in ("Conv1D", "Linear"))
    return blocks + model.lm_head.weight.numel()


def step_flops(model, N: int, T: int, cached: bool) -> float:
    cfg = model.config
    fwd = 2 * matmul_weights(model) * N * T + 4 * cfg.n_layer * N * T * T * cfg.n_embd
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
        per_step = [step_flops(model, *setup.batches[i % len(setup.batches)]["input_ids"].shape,
                               cached=(tag == "cached")) for i in range(len(wall))]
        rate = C.median([f / t for f, t in zip(per_step, wall)])
        rows.append({"reference": tag, "flops_per_step": sum(per_step) / len(per_step),
                     "achieved_flops": rate, "fraction_of_matmul": rate / peak,
                     "pairs_per_s": batch_size / C.median(wall)})
    cfg = model.config
    return {"when": C.stamp(), "machine": C.machine(), "batch_size": batch_size, "steps": steps,
            "repeats": repeats, "matmul_n": n, "matmul_flops": peak,
            "matmul_weights_P": matmul_weights(model), "n_params": sum(p.numel() for p in model.parameters()),
            "config": {"n_layer": cfg.n_layer, "n_embd": cfg.n_embd, "vocab_size": cfg.vocab_size},
            **setup.tokens(), "step_seconds": res,
            "rows": rows}


def markdown(res: dict) -> str:
    m = res["machine"]
    rows = [[r["reference"], f"{r['flops_per_step'] / 1e9:.2f}", f"{r['achieved_flops'] / 1e9:.2f}",
             f"{res['matmul_flops'] / 1e9:.1f}", f"{100 * r['fraction_of_matmul']:.1f}%"]
            for r in res["rows"]]
    head = C.table(["reference log-probs", "GFLOP per step", "achieved GFLOP/s",
                    f"{res['matmul_n']}x{res['matmul_n']} matmul GFLOP/s", "fraction"], rows)
    return (f"{head}\n\nFLOPs per step = (3 + [reference not cached]) x (2 P N T + 4 L N T^2 d), with "
            f"P = {res['matmul_weights_P'] / 1e6:.2f}M matmul weights (blocks + LM head), N = "
            f"{res['rows_per_batch']:.0f} rows, T = padded length ({res['mean_T']:.0f} on average), "
            f"L = {res['config']['n_layer']}, d = {res['config']['n_embd']}. Batch {res['batch_size']} pairs, "
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
    C.write_results("flops", md, res, a.out)
    print(md)
    if a.write_readme and not C.update_readme("flops", md):
        print("README markers <!-- flops:start/end --> not found; README left as it was")
    return res


if __name__ == "__main__":
    main()
