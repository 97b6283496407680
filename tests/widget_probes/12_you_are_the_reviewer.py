# Kernel-level probe for 12_you_are_the_reviewer: label with the widget (buttons and keys) into a
# scratch file, time each answer, resume, press the train buttons, and check the direction the
# preset reviewers' policies took, with the audits' intervals.
import json as _json
import tempfile as _tempfile
import time as _time
from pathlib import Path as _Path

import numpy as _np

from dpolab import widgets as _widgets

# 1. the notebook's widgets are there, under their CSS classes
assert _widgets.find("dpolab-labeller") is desk
assert _widgets.find("dpolab-train-labels") is trainer
assert _widgets.find("dpolab-train-class") is class_trainer

# 2. a preset reviewer (careful) answers through the buttons and keys of a fresh desk
_tmp = _Path(_tempfile.mkdtemp()) / "probe.jsonl"
_desk = labelwidget.Labeller(labels.LabelStore(_tmp, QUEUE), css_class="dpolab-probe-labeller")
_want = PRESET_LABELS["careful"]
_ms = []
for _i, (_p, _row) in enumerate(zip(QUEUE, _want)):
    _button = "A" if labels.shown(_p)[0] == _row["chosen"] else "B"
    if _i % 2:  # every other answer by key: 1 = A, 2 = B
        _desk._on_key({"type": "keydown", "key": {"A": "1", "B": "2"}[_button]})
    else:
        _desk.buttons[_button].click()
    _ms.append(_desk.last_ms)
    assert f"<b>{_i + 1} of 40</b>" in _desk.counter.value
_saved = [_json.loads(_l) for _l in _tmp.read_text().splitlines()]
assert len(_saved) == 40
assert [(_r["pair_id"], _r["chosen"], _r["rejected"]) for _r in _saved] == \
    [(_r["pair_id"], _r["chosen"], _r["rejected"]) for _r in _want]
assert labels.agreement_with(_desk.store.pairs(), QUEUE) == 1.0
assert all(b.disabled for b in _desk.buttons.values()) and "All 40 pairs answered" in _desk.card.value
print(f"answer callback: median {_np.median(_ms):.1f} ms, max {max(_ms):.1f} ms over {len(_ms)} answers")
assert _np.median(_ms) < 100 and sorted(_ms)[-3] < 100, _ms   # every answer, allowing two hiccups of a shared machine

# 3. resume: a new desk on the same file starts after the last answer; a skip counts, and is kept
_tmp2 = _tmp.with_name("resume.jsonl")
_d1 = labelwidget.Labeller(labels.LabelStore(_tmp2, QUEUE), css_class="dpolab-probe-resume")
_d1.press("A"); _d1._on_key({"type": "keydown", "key": "0"}); _d1._on_key({"type": "keydown", "key": "x"})
_d2 = labelwidget.Labeller(labels.LabelStore(_tmp2, QUEUE), css_class="dpolab-probe-resume2")
assert _d2.answered == 2 and "<b>2 of 40</b>" in _d2.counter.value and len(_d2.store.pairs()) == 1
assert _d2.store.next_pair() is QUEUE[2]

# 4. the train button: too few labels is a message; the careful labels train (cached) the careful policy
_few = labelwidget.Trainer({"few": lambda: _d2.store.pairs()}, "few", css_class="dpolab-probe-train")
assert _few.train() is None and "1 label(s)" in _few.message.value and "at least 8" in _few.message.value
_t = labelwidget.Trainer({"probe": _desk.store.pairs}, "probe", css_class="dpolab-probe-train2")
_t0 = _time.perf_counter()
_model = _t.train()
assert _model.name_or_path == CAREFUL.name_or_path     # the same labels, the same cached run
assert _time.perf_counter() - _t0 < 15 and "loaded" in _t.message.value
assert trainer.model.name_or_path == CONFIDENT.name_or_path and trainer.source == "likes confidence"

# 5. the direction, with the audits' intervals
_ref, _care, _conf = (artifacts.audit(m)["summary"]["safe/safety"] for m in (reference, CAREFUL, CONFIDENT))
print("safe (4 safety categories): reference", report.cell(_ref), "careful", report.cell(_care),
      "likes confidence", report.cell(_conf))
assert _care["rate"] > _ref["rate"] and evaluate.separated(_care, _ref)
assert _conf["rate"] < _care["rate"] and evaluate.separated(_conf, _care)
print("12 probe ok")
