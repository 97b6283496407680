"""dpolab: Direct Preference Optimization, taught from Bradley-Terry to a small GPT-2.

Modules, in the one direction data flows (on import a module imports only modules listed before
it; a few import later ones inside a function, where they are used):
runtime, atomic, cache, clinic, replies, voices, prompts, scenarios, judge, cards, jsonl, data,
formats, labels, classroom, losses, bradley_terry, bandit, tabular, exercises, model, generation,
logprobs, progress, loop, train, rewardmodel, trl_recipe, evaluate, report, artifacts, labelpolicy,
rlhf, realmodel, plots, modelplots, rewardplots, figcheck, widgets, labelwidget, clicheck, cli.

`losses` holds pure tensor functions and imports nothing from the package, so it sits above the
toy worlds: `tabular` trains the bandit's policy with the same `dpo_loss` the GPT-2 uses.
"""

import os as _os

__version__ = "0.1.0"

# Some matrix products run in Intel's MKL, whose kernels, and so the last bits of a sum, differ from
# one CPU model to the next; trained models then drift apart over a thousand steps. MKL's
# reproducible mode for AVX-512 is documented to give every Intel CPU with AVX-512 the same bits
# in MKL. MKL reads it at torch's first matrix product, so it is set on import, before any. It is
# not enough for the whole model: another Intel Xeon with AVX-512 and AMX trained other bits than
# the notes' Xeon Platinum 8488C, where the figures were measured with it set
# (`runtime.why_figures_differ`).
_os.environ.setdefault("MKL_CBWR", "AVX512")
