"""DPO training throughput: dpolab's step against TRL's `DPOTrainer`, same model, same batches.

Both sides train copies of ONE saved GPT-2 (same weights, fp32, dropout off: dpolab keeps its
models in eval mode, TRL's `disable_dropout=True` zeroes every dropout probability), on the same
pairs cut into the same batches of `--batch-size`, padded on the right to the longest row of the
batch (no row reaches the model's 128-token context, so nothing is truncated: the script checks
that both sides feed the model identical `input_ids` and completion masks). Same optimizer:
`torch.optim.AdamW`, lr 1e-4, weight decay 0, gradient clipping at norm 1.0, constant schedule.

Two ways of timing, each with and without cached reference log-probs:

* step: one optimizer step on a pre-collated batch, repeated over `--steps` batches.
    - dpolab: `dpolab.train.dpo_step`, the step `train_dpo` runs (concatenated forward of the 2B
      rows, `dpo_loss`, the metrics it logs; plain DPO, `rpo_alpha=0`, as TRL's default), then
      backward, clipping, `AdamW.step`. With a cached reference its log-probs come with the batch
      (computed once beforehand, as `train_dpo` does); without, the step also runs the reference
      forward under `torch.no_grad()`.
    - TRL: `trainer.training_step(model, inputs)` (forward, loss, metrics, backward) on a batch from
      TRL's own collator, then `accelerator.clip_grad_norm_`, `optimizer.step()`,
      `lr_scheduler.step()`, `model.zero_grad()`: what `Trainer`'s inner loop does per step.
      Cached: `precompute_ref_log_probs=True` (the columns come with the batch).
* loop: the real training entry points, `dpolab.train.train_dpo(...)` and `trainer.train()`, one
  epoch over `--steps` batches; a callback stamps the end of every step and the rate is taken from
  the end of step 1 to the end of the last step, so set-up (tokenizing, reference precompute,
  trainer construction, the first step's warm-up) is not timed. `train_dpo` always caches the
  reference, so dpolab's uncached loop is not measured.

The contenders run in turns, `--repeats` rounds, alternating their order; the table reports the
median pairs/s of each and the ratio of the medians.

    python benchmarks/dpo_step.py                 # ~2 minutes on 2 cores
    python benchmarks/dpo_step.py --write-readme  # also refresh the README table
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import tempfile
import time
import warnings
from pathlib import Path

import _common as C  # noqa: I001  (sets the offline environment before transformers loads)
import torch

from dpolab import artifacts
from dpolab.data import collate_pairs, format_prompt, tokenize_pairs
from dpolab.logprobs import concatenated_forward
from dpolab.model import context_length, load_model, new_model, preset, save
from dpolab.train import DPOConfig, dpo_step, train_dpo

BETA, LR, CLIP = 0.1, 1e-4, 1.0


# ---------------------------------------------------------------------------------------------
# Set-up shared by both sides


class Setup:
    """One saved model, its tokenizer, `n_batches` batches of pairs, and fresh copies on demand."""

    def __init__(self, batch_size: int, n_batches: int, gpt: str = "gpt-tiny", tiny: bool = False):
        self.tmp = tempfile.TemporaryDirectory(prefix="dpolab-bench-")
        self.tok = artifacts.tokenizer()
        cfg = preset(gpt, dropout=0.1)
        if tiny:  # smoke-test size: seconds, not minutes
            cfg = preset(gpt, n_layer=1, n_head=2, n_embd=32, dropout=0.1)
        self.model_dir = save(new_model(self.tok, cfg, seed=0), self.tok, Path(self.tmp.name) / "model")
        self.B = batch_size
        rows = artifacts.train_rows()[: batch_size * n_batches]
        self.rows = rows
        self.prompts = [r["prompt"] for r in rows]
        self.chosen = [r["chosen"] for r in rows]
        self.rejected = [r["rejected"] for r in rows]
        n_ctx = context_length(self.fresh())
        self.max_length = n_ctx
        self.examples = tokenize_pairs(self.tok, self.prompts, self.chosen, self.rejected, n_ctx)
        self.batches = [collate_pairs(self.examples[i:i + batch_size], self.tok.pad_token_id)
                        for i in range(0, len(self.examples), batch_size)]

    def fresh(self):
        """A new copy of the saved model (eval mode, so dropout is off)."""
        return load_model(self.model_dir)

    def tokens(self) -> dict:
        """Rows and padded tokens per batch, averaged (what the model actually processes)."""
        rows = [b["input_ids"].shape[0] for b in self.batches]
        padded = [b["input_ids"].numel() for b in self.batches]
        real = [int(b["attention_mask"].sum()) for b in self.batches]
        T = [b["input_ids"].shape[1] for b in self.batches]
        n = len(self.batches)
        return {"rows_per_batch": sum(rows) / n, "padded_tokens_per_batch": sum(padded) / n,
                "real_tokens_per_batch": sum(real) / n, "mean_T": sum(T) / n, "max_T": max(T)}


# ---------------------------------------------------------------------------------------------
# dpolab


class Contender:
    """What both sides share: `step(batch)` is theirs; `step_at(i)` times it on batch i."""

    def step_at(self, i: int) -> float:
        return self.step(self.batches[i])


class Ours(Contender):
    """dpolab's DPO step; `cached` picks precomputed reference log-probs or an inline reference forward."""

    def __init__(self, setup: Setup, cached: bool):
        self.s, self.cached = setup, cached
        self.config = DPOConfig(beta=BETA, rpo_alpha=0.0)
        self.policy, self.reference = setup.fresh(), setup.fresh()
        for p in self.reference.parameters():
            p.requires_grad_(False)
        self.params = [p for p in self.policy.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(self.params, lr=LR, weight_decay=0.0)
        self.batches = [dict(b) for b in setup.batches]
        if cached:  # once, before training, as train_dpo does
            with torch.no_grad():
                for b in self.batches:
                    b["ref_chosen_logps"], b["ref_rejected_logps"] = concatenated_forward(self.reference, b)

    def loss(self, batch) -> torch.Tensor:
        if not self.cached:
            with torch.no_grad():
                ref_w, ref_l = concatenated_forward(self.reference, batch)
            batch = {**batch, "ref_chosen_logps": ref_w, "ref_rejected_logps": ref_l}
        loss, self.metrics = dpo_step(self.policy, batch, self.config)  # train_dpo's own step
        return loss

    def step(self, batch) -> float:
        loss = self.loss(batch)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, CLIP)
        self.opt.step()
        return loss.item()



def ours_loop(setup: Setup) -> float:
    """`train_dpo` for one epoch; pairs/s from the end of step 1 to the end of the last step."""
    stamps: list[float] = []
    config = DPOConfig(beta=BETA, rpo_alpha=0.0, lr=LR, batch_size=setup.B, epochs=1,
                       warmup_steps=1, grad_clip=CLIP, weight_decay=0.0, seed=len(stamps))
    train_dpo(setup.fresh(), setup.fresh(), setup.tok, setup.rows, config, progress=False,
              callback=lambda step, record: stamps.append(time.perf_counter()))
    return (len(stamps) - 1) * setup.B / (stamps[-1] - stamps[0])


# ---------------------------------------------------------------------------------------------
# TRL


def trl_config(setup: Setup, cached: bool, out: str, max_steps: int = -1):
    from trl import DPOConfig

    return DPOConfig(
        output_dir=out, per_device_train_batch_size=setup.B, learning_rate=LR, beta=BETA,
        max_length=setup.max_length, precompute_ref_log_probs=cached,
        precompute_ref_batch_size=64,
        # the CPU settings TRL needs here
        bf16=False, fp16=False, use_cpu=True, gradient_checkpointing=False, report_to="none",
        # the same optimizer and schedule as dpolab
        optim="adamw_torch", weight_decay=0.0, max_grad_norm=CLIP, lr_scheduler_type="constant",
        warmup_steps=0, disable_dropout=True,
        num_train_epochs=1, max_steps=max_steps, save_strategy="no", logging_steps=10**6,
        disable_tqdm=True, dataloader_num_workers=0, seed=0,
    )


def trl_dataset(setup: Setup):
    import datasets

    return datasets.Dataset.from_dict({"prompt": [format_prompt(p) for p in setup.prompts],
                                       "chosen": setup.chosen, "rejected": setup.rejected})


@contextlib.contextmanager
def quiet():
    """Silence TRL/transformers/datasets chatter during trainer construction."""
    with (warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()),
          contextlib.redirect_stdout(io.StringIO())):
        warnings.simplefilter("ignore")
        level = logging.root.manager.disable
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(level)


def trl_trainer(setup: Setup, cached: bool, out: str, max_steps: int = -1, callbacks=None):
    from trl import DPOTrainer

    with quiet():
        trainer = DPOTrainer(model=setup.fresh(), ref_model=setup.fresh(),
                             args=trl_config(setup, cached, out, max_steps),
                             train_dataset=trl_dataset(setup), processing_class=setup.tok,
                             callbacks=callbacks)
    return trainer


class Trl(Contender):
    """TRL's DPO step on batches from its own collator, same pairs and order as dpolab's."""

    def __init__(self, setup: Setup, cached: bool, out: str):
        self.s, self.cached = setup, cached
        self.trainer = t = trl_trainer(setup, cached, out)
        t.create_optimizer_and_scheduler(num_training_steps=10**6)
        t.current_gradient_accumulation_steps = 1  # set by Trainer's own loop, which we bypass here
        ds = t.train_dataset
        self.batches = [t.data_collator([ds[j] for j in range(i, min(i + setup.B, len(ds)))])
                        for i in range(0, len(ds), setup.B)]

    def step(self, inputs) -> float:
        t = self.trainer
        loss = t.training_step(t.model, inputs)  # forward, loss, metrics, backward
        t.accelerator.clip_grad_norm_(t.model.parameters(), CLIP)
        t.optimizer.step()
        t.lr_scheduler.step()
        t.model.zero_grad()
        return loss.item()



def trl_loop(setup: Setup, cached: bool, out: str) -> float:
    """`trainer.train()` for one epoch; pairs/s from the end of step 1 to the end of the last step."""
    from transformers import TrainerCallback

    stamps: list[float] = []

    class Stamp(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            stamps.append(time.perf_counter())

    trainer = trl_trainer(setup, cached, out, callbacks=[Stamp()])
    with quiet():
        trainer.train()
    return (len(stamps) - 1) * setup.B / (stamps[-1] - stamps[0])


# ---------------------------------------------------------------------------------------------
# Checks that both sides do the same work


def check_same_work(setup: Setup, out: str) -> dict:
    """Identical model inputs on both sides, and the same loss on the first batch (fresh weights)."""
    ours, trl = Ours(setup, cached=False), Trl(setup, cached=False, out=out)
    same_inputs = all(
        torch.equal(a["input_ids"], b["input_ids"]) and torch.equal(a["completion_mask"], b["completion_mask"])
        and torch.equal(a["attention_mask"], b["attention_mask"])
        for a, b in zip(ours.batches, trl.batches))
    with torch.no_grad():
        loss_ours = ours.loss(ours.batches[0]).item()
        trl.trainer.model.train()
        loss_trl = trl.trainer.compute_loss(trl.trainer.model, trl.batches[0]).item()
    # after one step each (same optimizer), the losses on the next batch should still agree
    ours.step(ours.batches[0])
    trl.step(trl.batches[0])
    with torch.no_grad():
        next_ours = ours.loss(ours.batches[1 % len(ours.batches)]).item()
        next_trl = trl.trainer.compute_loss(trl.trainer.model, trl.batches[1 % len(trl.batches)]).item()
    return {"same_inputs": same_inputs, "loss_ours": loss_ours, "loss_trl": loss_trl,
            "loss_abs_diff": abs(loss_ours - loss_trl), "after_one_step_abs_diff": abs(next_ours - next_trl)}


# ---------------------------------------------------------------------------------------------


def measure(batch_size: int = 16, steps: int = 8, repeats: int = 5, loop_repeats: int = 3,
            tiny: bool = False) -> dict:
    setup = Setup(batch_size, steps, tiny=tiny)
    out = tempfile.mkdtemp(prefix="trl-out-", dir=setup.tmp.name)
    check = check_same_work(setup, out)
    runners = {}
    for cached in (True, False):
        tag = "cached" if cached else "uncached"
        runners[f"ours/step/{tag}"] = Ours(setup, cached)
        runners[f"trl/step/{tag}"] = Trl(setup, cached, out)
    for r in runners.values():  # the first steps pay for lazy initialisation; not recorded
        r.step_at(0)
    n = len(setup.batches)
    steps_timed = C.interleave_steps(runners, n, repeats)
    B = setup.B
    med = {k: B / C.median(v["wall"]) for k, v in steps_timed.items()}
    med_cpu = {k: B / C.median(v["cpu"]) for k, v in steps_timed.items()}
    loops = {}
    if loop_repeats:
        loops = C.interleave({"ours/loop/cached": lambda: ours_loop(setup),
                              "trl/loop/cached": lambda: trl_loop(setup, True, out),
                              "trl/loop/uncached": lambda: trl_loop(setup, False, out)}, loop_repeats)
        med.update({k: C.median(v) for k, v in loops.items()})
    rows = []
    for mode in ("step", "loop"):
        for tag in ("cached", "uncached"):
            o, t = med.get(f"ours/{mode}/{tag}"), med.get(f"trl/{mode}/{tag}")
            if o is None and t is None:
                continue
            row = {"mode": mode, "reference": tag, "ours_pairs_per_s": o, "trl_pairs_per_s": t,
                   "ratio": (o / t) if o and t else None}
            if mode == "step":
                a, b = steps_timed[f"ours/step/{tag}"]["wall"], steps_timed[f"trl/step/{tag}"]["wall"]
                row["paired_ratio"] = C.median([tb / ta for ta, tb in zip(a, b)])  # same batch, same moment
                row["cpu_ratio"] = med_cpu[f"ours/step/{tag}"] / med_cpu[f"trl/step/{tag}"]
            rows.append(row)
    model = setup.fresh()
    return {"when": C.stamp(), "machine": C.machine(), "batch_size": batch_size, "steps": n,
            "repeats": repeats, "loop_repeats": loop_repeats,
            "n_params": sum(p.numel() for p in model.parameters()),
            "config": {k: getattr(model.config, k) for k in ("n_layer", "n_head", "n_embd", "n_positions", "vocab_size")},
            **setup.tokens(), "check": check, "step_seconds": steps_timed, "loop_pairs_per_s": loops,
            "rows": rows}


def markdown(res: dict) -> str:
    m, cfg = res["machine"], res["config"]
    def f(x, fmt="{:.1f}"):
        return "n/a" if x is None else fmt.format(x)
    rows = [[r["mode"], r["reference"], f(r["ours_pairs_per_s"]), f(r["trl_pairs_per_s"]),
             f(r["ratio"], "{:.2f}x"), f(r.get("paired_ratio"), "{:.2f}x"), f(r.get("cpu_ratio"), "{:.2f}x")]
            for r in res["rows"]]
    head = C.table(["timed", "reference log-probs", "dpolab pairs/s", "TRL pairs/s", "dpolab / TRL",
                    "paired", "by CPU time"], rows)
    chk = res["check"]
    return (f"{head}\n\nGPT-2 {cfg['n_layer']} layers, {cfg['n_embd']} dims, vocab {cfg['vocab_size']} "
            f"({res['n_params'] / 1e6:.2f}M parameters), fp32, dropout off; batch {res['batch_size']} pairs "
            f"(= {res['rows_per_batch']:.0f} rows, padded to {res['mean_T']:.0f} tokens on average), AdamW "
            f"lr 1e-4, clip 1.0. step: median over {res['repeats']} rounds x {res['steps']} batches of single "
            f"steps, the four contenders taking turns step by step; 'paired' is the median over those "
            f"steps of TRL's time / dpolab's time on the same batch at the same moment; 'by CPU time' uses "
            f"process CPU time instead of wall time. loop: median of {res['loop_repeats']} interleaved "
            f"epochs of {res['steps']} steps through `train_dpo` / `trainer.train()`. "
            f"Same inputs on both sides: {chk['same_inputs']}; loss on the first batch differs by "
            f"{chk['loss_abs_diff']:.1e} (after one step each: {chk['after_one_step_abs_diff']:.1e}). "
            f"Machine: {m['cpus']} cores, {m['torch_threads']} torch threads, torch {m['torch']}, "
            f"load average {m.get('loadavg_1m', '?')} at the end ({res['when']}).")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--steps", type=int, default=8, help="distinct batches (steps per round / per epoch)")
    ap.add_argument("--repeats", type=int, default=5, help="rounds of single-step timing")
    ap.add_argument("--loop-repeats", type=int, default=3,
                    help="interleaved train_dpo / trainer.train() epochs (0: skip)")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--tiny", action="store_true", help="a 1-layer model (smoke test)")
    ap.add_argument("--out", type=Path, default=C.RESULTS)
    ap.add_argument("--write-readme", action="store_true")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    res = measure(a.batch_size, a.steps, a.repeats, a.loop_repeats, tiny=a.tiny)
    md = markdown(res)
    C.publish("dpo_step", "dpo-step", md, res, a.out, a.write_readme)
    return res


if __name__ == "__main__":
    main()
