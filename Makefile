# im2col_ext -- build, test, benchmark and package.  `make help` lists the targets.

PYTHON ?= python3
PYTEST_ARGS ?= -q
# Interpreters for `make matrix` (pyenv names them python3.X).
MATRIX_PYTHONS ?= 3.9 3.10 3.11 3.12 3.13
OLDEST_NUMPY ?= 1.23.5
VENVS ?= .venvs
MYPY_VERSION ?= 1.19.1

.PHONY: help install build deps test test-c test-numpy test-torch test-slow fuzz typecheck demo \
        bench bench-quick info wheel sdist install-paths matrix sanitize valgrind clang clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

install:  ## pip install the package (a regular, non-editable install; builds the C extension)
	$(PYTHON) -m pip install .

# Working from the clone: `make build` is an editable install (pip install -e)
# whose C extension is built in place, next to the sources, so that
# `python -m im2col_ext ...`, `python -c "import im2col_ext"`, `python examples/...`
# and `python -m pytest` use the compiled extension whether they run from the
# clone's root (which imports ./im2col_ext) or from anywhere else.  The
# extension is rebuilt only when its sources change (or for another
# interpreter / venv): the stamp file names both.
EXT_DEPS := setup.py pyproject.toml im2col_ext/_cext.pyx im2col_ext/_kernels.pxd \
            $(wildcard src_c/*.c src_c/*.h)
PY_ID = $(shell $(PYTHON) -c "import sys, hashlib, sysconfig; \
print(hashlib.sha1(sys.prefix.encode()).hexdigest()[:12] + sysconfig.get_config_var('EXT_SUFFIX'))")
BUILD_STAMP = build/.editable-$(PY_ID)

build: $(BUILD_STAMP)  ## build the C extension in place and install the clone editable (pip install -e)
	@$(PYTHON) -c "import importlib.util as u; u.find_spec('im2col_ext._cext') or exit(1)" 2>/dev/null \
	  || { echo "im2col_ext: the in-place extension is missing; rebuilding"; \
	       rm -f $(BUILD_STAMP); $(MAKE) $(BUILD_STAMP); }

$(BUILD_STAMP): $(EXT_DEPS)
	$(MAKE) deps
	$(PYTHON) -m pip install -q --no-build-isolation -e ".[test]"
	@mkdir -p build && touch $@
	@$(PYTHON) -m im2col_ext info

# pip >= 25.1 shows the SPDX license (License-Expression) in `pip show`;
# setuptools and Cython are the build requirements (pyproject.toml), installed
# here because the editable build runs without build isolation (it is faster
# and reuses them).
deps:  ## install the build and test tools into the current environment
	$(PYTHON) -m pip install -q --upgrade "pip>=25.1" "setuptools>=77" "Cython>=3" pytest hypothesis

test: build  ## build in place, then run the suite on both backends, then with IM2COL_EXT_BACKEND=numpy
	$(MAKE) test-c test-numpy

test-c:  ## run the suite (every kernel test on each available backend) from the clone's root
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# The c_only tests (the compiled kernels themselves) ran in test-c.
test-numpy:  ## run the suite with IM2COL_EXT_BACKEND=numpy (the fallback's import path)
	IM2COL_EXT_BACKEND=numpy $(PYTHON) -m pytest $(PYTEST_ARGS) -m "not c_only"

test-torch:  ## only the cross-checks against PyTorch (needs torch installed)
	$(PYTHON) -c "import torch; print('torch', torch.__version__)"
	$(PYTHON) -m pytest $(PYTEST_ARGS) -m torch

test-slow:  ## the tests marked slow (arrays over 2**31 elements; needs ~20 GB of RAM)
	$(PYTHON) -m pytest $(PYTEST_ARGS) -m slow --run-slow

fuzz:  ## a long hypothesis session (IM2COL_EXT_FUZZ_EXAMPLES, default 10000 per test)
	HYPOTHESIS_PROFILE=fuzz $(PYTHON) -m pytest $(PYTEST_ARGS) tests/test_fuzz.py

typecheck:  ## mypy on the package (configuration in pyproject.toml)
	$(PYTHON) -m pip install -q "mypy==$(MYPY_VERSION)"
	$(PYTHON) -m mypy

demo: build  ## the main job: backend in use, a worked example, a short benchmark vs NumPy
	$(PYTHON) -m im2col_ext demo

info:  ## version, backend, extension path and build flags
	$(PYTHON) -m im2col_ext info

bench: build  ## the full benchmark (one thread); writes bench.json
	$(PYTHON) -m im2col_ext bench --json bench.json

bench-quick: build  ## a short benchmark run
	$(PYTHON) -m im2col_ext bench --quick

wheel:  ## a manylinux wheel in dist/ (C extension required, auditwheel repair, libgomp vendored)
	bash .ci/wheel.sh dist

sdist:  ## build the source archive in dist/
	$(PYTHON) -m pip install -q build
	$(PYTHON) -m build --sdist

install-paths:  ## prove the wheel / sdist-without-compiler / required-C install paths in fresh venvs
	bash .ci/install_paths.sh

matrix:  ## the suite on every Python in MATRIX_PYTHONS, and once with the oldest supported NumPy
	bash .ci/matrix.sh "$(MATRIX_PYTHONS)" "$(OLDEST_NUMPY)" "$(VENVS)"

sanitize:  ## build with AddressSanitizer + UBSan and run the suite under them
	bash .ci/sanitize.sh

valgrind:  ## run the C-path tests under valgrind memcheck
	bash .ci/valgrind.sh

clang:  ## build the extension with clang (installs it with apt-get if root) and run the kernel tests
	bash .ci/clang.sh

clean:  ## remove build products
	rm -rf build dist *.egg-info im2col_ext/_cext.c im2col_ext/*.so $(VENVS) .pytest_cache \
	       tests/.pytest_cache .mypy_cache wheelhouse
	find . -name __pycache__ -prune -exec rm -rf {} +
