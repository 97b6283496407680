# Kernel-level probe for 11_rlhf_against_dpo: move the KL-coefficient slider over every cached RL
# run and check the readout against that run's training history, read back from its cache folder.
import json as _json
from pathlib import Path as _Path

from dpolab import rlhf as _rlhf
from dpolab.widgets import find, readout_html

_panel = find("dpolab-rlhf-run")
_slider = find("dpolab-rlhf-run-kl-coef")
assert list(_slider.options) == [0.02, 0.1, 0.5, 2.0]
_ms = []
for _c in (2.0, 0.1, 0.5, 0.02, 0.1):
    _slider.value = _c
    _folder = _Path(_rlhf.policy_dir(progress=False, kl_coef=_c, lr=3e-4, steps=30)).parent
    _h = _json.loads((_folder / "history.json").read_text())
    assert _panel.summary["kl_coef"] == _c
    assert _panel.summary["proxy at the end"] == round(_h[-1]["reward"], 2)
    _gold = [x["safe_safety"] for x in _h]
    _lines = _panel.figure.axes[1].get_lines()          # the second panel: gold safe rate, then broken
    assert len(_lines[0].get_ydata()) == len(_gold) == 30
    assert _panel.readout.value == readout_html(_panel.summary)
    _ms.append(_panel.last_ms)
print(f"rlhf slider: {len(_ms)} changes, slowest {max(_ms):.0f} ms")
_slider.value = 0.02                                    # back to the loosest run, the one the text discusses
assert _panel.summary["kl_coef"] == 0.02
