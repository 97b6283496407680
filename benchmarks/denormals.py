"""Denormal floats: one DPO run with them flushed to zero (what `dpolab.runtime` sets on import)
and with them kept, in turns, each in a fresh process.

The run is plain DPO at beta 10 with a constant learning rate of 1e-4 (notebook 07's beta-alone
setting until 2026-12-06; it now trains at 5e-5), from the cached reference, on the training
pairs, as `artifacts.policy` trains it. Each child process
sets the mode before torch's first parallel operation, so torch's threads inherit it; it times the
steps (from the end of step 1 to the end of the last, as `dpo_step.py`'s loop row does) and
hashes the final weights; then it takes one more step from the trained policy, counting the
denormal values (nonzero, below float32's smallest normal number, 1.18e-38) that every torch
operation of that step outputs. The table gives median seconds per run, the ratio, and
whether the two modes trained the same weights, bit for bit.

    python benchmarks/denormals.py                  # 3 rounds; writes benchmarks/results/denormals.{md,json}
    python benchmarks/denormals.py --rounds 1 --steps 60 --write-readme
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import _common as C

CHILD = r"""
import collections, hashlib, json, sys, time
import dpolab.runtime
import torch
torch.set_flush_denormal(sys.argv[1] == "on")
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from dpolab import artifacts
from dpolab.train import DPOConfig, train_dpo


class Denormals(TorchDispatchMode):
    # Counts, per torch operation, the nonzero values below float32's smallest normal it outputs
    # (views aside: they compute nothing and would count their input's values again).
    def __init__(self):
        super().__init__()
        self.count = collections.Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if func.is_view:
            return out
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.is_floating_point():
                self.count[func.__name__.split(".")[0]] += int(((t != 0) & (t.abs() < 1.1754944e-38)).sum())
        return out


steps = int(sys.argv[2])
config = DPOConfig(beta=10.0, rpo_alpha=0.0, lr=1e-4, schedule="constant")
with dpolab.runtime.series_threads():
    ref_dir = artifacts.reference_dir(progress=False)
    rows, anchored = artifacts.training_pairs()
    known = artifacts.reference_logps(ref_dir, rows)
    policy, ref = artifacts.load_model(ref_dir), artifacts.load_model(ref_dir)
    tok = artifacts.load_tokenizer(ref_dir)
    stamps = []
    train_dpo(policy, ref, tok, rows, config, eval_pairs=artifacts.test_rows(), progress=False,
              reference_logps=known, anchored=anchored, stop_after=steps or None,
              callback=lambda step, m: stamps.append(time.perf_counter()) if step > 0 else None)
    h = hashlib.sha256()
    for name, t in sorted(policy.state_dict().items()):
        h.update(name.encode()); h.update(t.contiguous().numpy().tobytes())
    counter = Denormals()   # one more step from the trained policy (its first batch), counted
    with counter:
        train_dpo(policy, ref, tok, rows, config, progress=False, reference_logps=known,
                  anchored=anchored, stop_after=1)
print("RESULT " + json.dumps({"seconds": stamps[-1] - stamps[0], "steps": len(stamps) - 1,
                              "weights": h.hexdigest()[:16], "denormals": dict(counter.count.most_common())}))
"""


def one_run(mode: str, steps: int) -> dict:
    """One training run in a fresh process with denormals flushed ("on") or kept ("off")."""
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(steps)], cwd=C.ROOT, check=True,
                         capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def markdown(res: dict) -> str:
    on, off = res["runs"]["on"], res["runs"]["off"]
    t_on, t_off = C.median([r["seconds"] for r in on]), C.median([r["seconds"] for r in off])
    same = len({r["weights"] for r in on + off}) == 1
    def made(r):
        top = ", ".join(f"{op} {k:,}" for op, k in list(r["denormals"].items())[:3] if k)
        return f"{sum(r['denormals'].values()):,}" + (f" ({top}, ...)" if top else "")
    rows = [["flushed to zero (dpolab's setting)", f"{t_on:.1f}", on[0]["steps"], made(on[0])],
            ["kept", f"{t_off:.1f}", off[0]["steps"], made(off[0])]]
    m = res["machine"]
    return (C.table(["denormals", "seconds (median)", "steps timed", "denormal values made by one more step"], rows)
            + f"\n\nKept / flushed: **{t_off / t_on:.2f}x**; the two modes trained "
            + ("the same weights, bit for bit" if same else "**different weights**")
            + f". {len(on)} runs each, in turns, each in a fresh process; {m['processor']}, "
            f"{m['cpus']} cores, load average {m.get('loadavg_1m', '?')} at the end ({C.stamp()}).")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: the whole run)")
    ap.add_argument("--out", default=C.RESULTS)
    ap.add_argument("--write-readme", action="store_true")
    a = ap.parse_args(argv)
    runs = C.interleave({m: (lambda m=m: one_run(m, a.steps)) for m in ("on", "off")}, a.rounds,
                        verbose=False)
    res = {"runs": runs, "machine": C.machine(), "steps": a.steps}
    C.publish("denormals", "denormals", markdown(res), res, a.out, a.write_readme)
    return res


if __name__ == "__main__":
    main()
