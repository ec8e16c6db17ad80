# Two commands work on a fresh machine (Python 3.11, registry access):
#   make demo   set up .venv with the pinned stack, run the quick-start
#   make test   set up .venv with the pinned stack, run the whole test suite
# Reruns reuse .venv; it is rebuilt when a requirements file or setup.py changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: env demo test clean

env: $(STAMP)

$(STAMP): requirements/*.txt setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -c requirements/pinned.txt setuptools wheel
	$(PIP) install -q -c requirements/pinned.txt torch torchvision mmcv-lite \
		-r requirements/runtime.txt -r requirements/tests.txt
	# contrib shares cv2/ with opencv-python and must be installed after it
	$(PIP) install -q -c requirements/pinned.txt --no-deps --force-reinstall \
		-r requirements/optional.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	$(PY) -c "import mmssl_seg, cv2; cv2.ximgproc; print('mmssl_seg', mmssl_seg.__version__, 'ready')"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) tools/demo.py

test: $(STAMP)
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) work_dirs *.egg-info
