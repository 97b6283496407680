"""dpolab: Direct Preference Optimization, taught from Bradley-Terry to a small GPT-2.

Modules, in the one direction data flows (a module imports only those above it):
clinic, prompts, replies, scenarios, judge, data, losses, bradley_terry, bandit, atomic, model,
logprobs, loop, train, evaluate, artifacts, report, plots, modelplots, widgets, exercises,
runtime, cli.

`losses` holds pure tensor functions and imports nothing from the package, so it sits above the
toy worlds: the bandit trains its tabular policy with the same `dpo_loss` the GPT-2 uses.
"""

__version__ = "0.1.0"
