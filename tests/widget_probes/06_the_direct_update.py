# Kernel-level probe for 06_the_direct_update: the live training plot ended on the stored history,
# and its summary matches that history read back from the cache.
from dpolab import artifacts as _art
from dpolab.widgets import find

_live = find("dpolab-dpo-live")
assert _live.outputs and "image/png" in _live.outputs[-1]["data"], "the live plot shows no image"
_hist = _art.policy_history()
_last = [h for h in _hist if "loss" in h][-1]
for _k in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
    assert final[_k] == _last[_k], _k
assert final["step"] == _last["step"] == N_STEPS
print("06 probe ok")
