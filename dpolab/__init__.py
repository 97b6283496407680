"""dpolab: Direct Preference Optimization, taught from Bradley-Terry to a small GPT-2.

Modules, in the one direction data flows (a module imports only those above it):
scenarios, data, bradley_terry, bandit, losses, model, logprobs, train, evaluate,
artifacts, plots, widgets, exercises, cli.
"""

__version__ = "0.1.0"
