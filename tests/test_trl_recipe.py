"""`python -m dpolab trl`: the series' DPO recipe on `trl.DPOTrainer`, checked against dpolab.

Two processes under `accelerate launch` (gloo, on this CPU) train the tiny GPT-2 for two steps;
the first step's loss, which TRL averages over the processes, must equal dpolab's `dpo_loss` on
the same 16 pairs to 1e-5. The shipped accelerate configs must parse.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("trl")
pytest.importorskip("accelerate")

from dpolab import data  # noqa: E402
from dpolab import model as M  # noqa: E402
from dpolab.data import collate_pairs, tokenize_pairs  # noqa: E402
from dpolab.logprobs import concatenated_forward  # noqa: E402
from dpolab.losses import dpo_loss  # noqa: E402
from dpolab.train import DPOConfig  # noqa: E402
from dpolab.trl_recipe import trl_args  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "configs" / "accelerate").glob("*.yaml"))


@pytest.fixture(scope="module")
def moved_dir(tiny_lm_dir, tmp_path_factory):
    """The tiny GPT-2 moved off its initial weights: a policy that differs from its reference."""
    model, tok = M.load_model(tiny_lm_dir), M.load_tokenizer(tiny_lm_dir)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())))
    return M.save(model, tok, tmp_path_factory.mktemp("moved") / "lm")


def _dpolab_loss(policy_dir, reference_dir, rows, beta: float) -> float:
    tok = M.load_tokenizer(reference_dir)
    batch = collate_pairs(tokenize_pairs(tok, *([r[k] for r in rows] for k in ("prompt", "chosen", "rejected"))),
                          tok.pad_token_id)
    with torch.no_grad():
        pw, pl = concatenated_forward(M.load_model(policy_dir), batch)
        rw, rl = concatenated_forward(M.load_model(reference_dir), batch)
    return dpo_loss(pw, pl, rw, rl, beta)[0].mean().item()


@pytest.mark.slow
def test_two_processes_take_dpolabs_first_step(tiny_lm_dir, moved_dir, tmp_path):
    rows = data.train_pairs().to_list()[:48]
    pairs = tmp_path / "pairs.jsonl"  # TRL's standard format: no category, no rejected_flavor
    pairs.write_text("".join(json.dumps({k: r[k] for k in ("prompt", "chosen", "rejected")}) + "\n" for r in rows))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "accelerate.commands.launch",
           "--config_file", str(ROOT / "configs" / "accelerate" / "cpu_two_processes.yaml"),
           "-m", "dpolab", "trl", "--model", str(moved_dir), "--reference", str(tiny_lm_dir),
           "--pairs", str(pairs), "--out", str(out), "--max-steps", "2", "--sequential",
           "--rpo-alpha", "0", "--beta", "0.1", "--batch-size", "16"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    steps = [h for h in json.loads((out / "history.json").read_text()) if "loss" in h]
    assert len(steps) == 2
    # Sequential reading: the first step's 16 pairs are the file's first 16, 8 per process.
    ours = _dpolab_loss(moved_dir, tiny_lm_dir, rows[:16], beta=0.1)
    print(f"TRL, 2 processes: first-step loss {steps[0]['loss']:.7f}; dpolab dpo_loss: {ours:.7f}")
    assert abs(steps[0]["loss"] - ours) < 1e-5, (steps[0]["loss"], ours)
    assert abs(ours - 0.6931) > 1e-3                                   # the policy is not its reference
    assert steps[1]["loss"] != steps[0]["loss"]                        # a step was taken
    assert M.load_model(out).num_parameters() == M.load_model(moved_dir).num_parameters()
    assert "TRL DPO: 2 steps" in run.stdout


def test_an_exported_folder_is_read_by_trl_unchanged(tiny_lm_dir, tmp_path):
    from datasets import load_from_disk
    from trl import DPOTrainer

    from dpolab.formats import export

    rows = data.train_pairs().to_list()[:8]
    folder = export(tmp_path / "pairs", rows, data.test_pairs().to_list()[:4])
    tok = M.load_tokenizer(tiny_lm_dir)
    trainer = DPOTrainer(model=M.load_model(tiny_lm_dir), args=trl_args(DPOConfig(batch_size=8), tmp_path / "out"),
                         train_dataset=load_from_disk(str(folder))["train"], processing_class=tok)
    ours = tokenize_pairs(tok, *([r[k] for r in rows] for k in ("prompt", "chosen", "rejected")))
    for mine, theirs in zip(ours, trainer.train_dataset, strict=True):
        for key in ("prompt_ids", "chosen_ids", "rejected_ids"):
            assert mine[key] == theirs[key], key


def test_recipe_maps_the_series_settings():
    args = trl_args(DPOConfig(), "unused", processes=2)
    assert args.loss_type == ["sigmoid", "sft"] and args.loss_weights == [1.0, 4.0]
    series = DPOConfig()
    assert (args.beta, args.learning_rate, args.per_device_train_batch_size) == (series.beta, series.lr, 8)
    assert args.precompute_ref_log_probs and args.disable_dropout and args.max_grad_norm == 1.0
    assert args.warmup_steps == series.warmup_steps == 10
    assert trl_args(DPOConfig(schedule="constant"), "unused").lr_scheduler_type == "constant_with_warmup"
    assert trl_args(DPOConfig(rpo_alpha=0.0, loss_type="ipo"), "unused").loss_type == ["ipo"]
    with pytest.raises(ValueError, match="does not split evenly over 3 process"):
        trl_args(DPOConfig(), "unused", processes=3)
    with pytest.raises(ValueError, match="CPOTrainer"):
        trl_args(DPOConfig(loss_type="simpo"), "unused")
    with pytest.raises(ValueError, match="no DPOTrainer counterpart"):  # TRL's sigmoid would ignore it
        trl_args(DPOConfig(label_smoothing=0.1), "unused")
    assert trl_args(DPOConfig(loss_type="robust", label_smoothing=0.1), "unused").label_smoothing == 0.1


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_accelerate_configs_load(path):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(path))
    assert config.num_processes >= 1 and config.mixed_precision in ("no", "bf16")
    assert path.read_text().startswith("# ")  # each says when to use it


@pytest.mark.slow
def test_the_real_model_on_trl_scores_as_dpolab_does(tmp_path):
    """One TRL step on SmolLM2 (chat-template prompts): TRL's precomputed reference log-probs
    equal dpolab's `pair_logps` for the same pairs, and its first loss is log 2 (policy = reference)."""
    pytest.importorskip("gguf")
    from datasets import Dataset
    from trl import DPOTrainer

    from dpolab import realmodel
    from dpolab.formats import to_trl
    from dpolab.logprobs import pair_logps

    model, tok = realmodel.load()
    rows = data.train_pairs().to_list()[:4]
    args = trl_args(DPOConfig(batch_size=4, rpo_alpha=0.0), tmp_path / "out", max_steps=1, sequential=True)
    trainer = DPOTrainer(model=model, args=args, train_dataset=Dataset.from_list(to_trl(rows, tok)),
                         processing_class=tok)
    trainer.train()
    theirs = trainer.train_dataset
    w, l = pair_logps(realmodel.load()[0], tok, *([r[k] for r in rows] for k in ("prompt", "chosen", "rejected")))
    assert torch.allclose(torch.tensor(theirs["ref_chosen_logps"]), w, rtol=1e-4, atol=1e-3)
    assert torch.allclose(torch.tensor(theirs["ref_rejected_logps"]), l, rtol=1e-4, atol=1e-3)
    first = [h for h in trainer.state.log_history if "loss" in h][0]
    assert first["loss"] == pytest.approx(0.693147, abs=1e-5)


@pytest.mark.parametrize("schedule", ["cosine", "constant"])
def test_trl_schedule_follows_the_series_after_warm_up(schedule):
    """transformers' scheduler, built from `trl_args`, gives dpolab's learning rate at every step
    after the warm-up (during it TRL ramps from 0 at step 0, dpolab from lr / warmup: one step apart)."""
    from transformers import get_scheduler

    from dpolab.loop import learning_rate

    config, total = DPOConfig(schedule=schedule), 174
    args = trl_args(config, "unused")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=config.lr)
    sched = get_scheduler(args.lr_scheduler_type, opt, num_warmup_steps=args.warmup_steps,
                          num_training_steps=total, scheduler_specific_kwargs=args.lr_scheduler_kwargs)
    theirs = []
    for _ in range(total):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    ours = [learning_rate(s, config, total) for s in range(total)]
    after = slice(config.warmup_steps, total)
    assert theirs[after] == pytest.approx(ours[after], rel=1e-9)
    assert ours[-1] == pytest.approx(config.lr * (0.1 if schedule == "cosine" else 1.0), rel=1e-2)
