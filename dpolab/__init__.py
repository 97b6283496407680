"""dpolab: Direct Preference Optimization, taught from Bradley-Terry to a small GPT-2.

Modules, in the one direction data flows (a module imports only those above it):
clinic, prompts, replies, scenarios, judge, data, losses, bradley_terry, bandit, atomic, model,
logprobs, loop, train, evaluate, artifacts, report, plots, modelplots, rewardplots, widgets,
figcheck, exercises, runtime, cli.

`losses` holds pure tensor functions and imports nothing from the package, so it sits above the
toy worlds: the bandit trains its tabular policy with the same `dpo_loss` the GPT-2 uses.
"""

import os as _os

__version__ = "0.1.0"

# Some matrix products run in Intel's MKL, whose kernels, and so the last bits of a sum, differ from
# one CPU model to the next; trained models then drift apart over a thousand steps. MKL's
# reproducible mode for AVX-512 gives every Intel CPU with AVX-512 the same bits, so those at least
# agree with each other. MKL reads it at torch's first matrix product, so it is set on import,
# before any. The notes' figures were measured with it set, on an AMD CPU with AVX-512
# (`runtime.why_figures_differ`).
_os.environ.setdefault("MKL_CBWR", "AVX512")
