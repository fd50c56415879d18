# im2col_ext -- build, test, benchmark and package.  `make help` lists the targets.

PYTHON ?= python3
PYTEST_ARGS ?= -q
# Interpreters for `make matrix` (pyenv names them python3.X).
MATRIX_PYTHONS ?= 3.9 3.10 3.11 3.12 3.13
OLDEST_NUMPY ?= 1.23.5
VENVS ?= .venvs

.PHONY: help install build test test-c test-numpy test-slow fuzz demo bench bench-quick \
        info wheel sdist install-paths matrix sanitize valgrind clang clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

install:  ## pip install the package (builds the C extension)
	$(PYTHON) -m pip install .

build:  ## build the C extension in place, for development
	$(PYTHON) setup.py build_ext --inplace

# The tests run from inside tests/ so that `import im2col_ext` finds the
# installed package (with its compiled extension), not the source tree.
test:  ## install the package and test tools, run the suite on both backends, then with IM2COL_EXT_BACKEND=numpy
	$(PYTHON) -m pip install ".[test]"
	$(MAKE) test-c test-numpy

test-c:  ## run the suite on the installed package (every test on each available backend)
	cd tests && $(PYTHON) -m pytest $(PYTEST_ARGS)

test-numpy:  ## run the suite with IM2COL_EXT_BACKEND=numpy (the fallback's import path)
	cd tests && IM2COL_EXT_BACKEND=numpy $(PYTHON) -m pytest $(PYTEST_ARGS)

test-slow:  ## the tests marked slow (arrays over 2**31 elements; needs ~20 GB of RAM)
	cd tests && $(PYTHON) -m pytest $(PYTEST_ARGS) -m slow --run-slow

fuzz:  ## a long hypothesis session (IM2COL_EXT_FUZZ_EXAMPLES, default 10000 per test)
	cd tests && HYPOTHESIS_PROFILE=fuzz $(PYTHON) -m pytest $(PYTEST_ARGS) test_fuzz.py

demo:  ## the main job: backend in use, a worked example, a short benchmark vs NumPy
	$(PYTHON) -m pip install -q .
	cd tests && $(PYTHON) -m im2col_ext demo

info:  ## version, backend, extension path and build flags
	cd tests && $(PYTHON) -m im2col_ext info

bench:  ## the full benchmark (one thread); writes bench.json
	cd tests && $(PYTHON) -m im2col_ext bench --json ../bench.json

bench-quick:  ## a short benchmark run
	cd tests && $(PYTHON) -m im2col_ext bench --quick

wheel:  ## build a binary wheel in dist/ (the C extension is required)
	IM2COL_EXT_REQUIRE_C=1 $(PYTHON) -m pip wheel . --no-deps -w dist

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
	rm -rf build dist *.egg-info im2col_ext/_cext.c im2col_ext/*.so $(VENVS) .pytest_cache tests/.pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
