# Kernel-level probe for 06_the_direct_update: the live training plot gave way to the complete
# one, and the complete plot's summary matches the history read back from the cache.
from dpolab import artifacts as _art
from dpolab.widgets import find

_live = find("dpolab-dpo-live")
assert not _live.outputs, "the live plot should have been cleared once training ended"
_hist = _art.policy_history()
_last = [h for h in _hist if "loss" in h][-1]
for _k in ("loss", "rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies"):
    assert final[_k] == _last[_k], _k
assert final["step"] == _last["step"] == N_STEPS
assert [line.get_label() for line in history_fig.axes[0].get_lines()][:2] == ["DPO term", "anchor"]
print("06 probe ok")
