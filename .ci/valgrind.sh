#!/usr/bin/env bash
# Run the C-path tests under valgrind memcheck (a subset with few hypothesis
# examples: valgrind is ~50x slower).  Any memcheck error fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install -q "Cython>=3" "setuptools>=61" wheel pytest hypothesis >/dev/null
# The interpreter itself, not a launcher (pyenv's shim is a shell script that
# valgrind would check instead of Python).
PY=$("$PY" -c 'import sys; print(sys.executable)')
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)"; exit 1; }
[ -n "$(ls im2col_ext/_cext*.so 2>/dev/null)" ] || "$PY" setup.py -q build_ext --inplace
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/notorch/torch"
echo 'raise ModuleNotFoundError("torch is hidden under valgrind", name="torch")' > "$work/notorch/torch/__init__.py"
set +e
PYTHONPATH="$work/notorch" PYTHONMALLOC=malloc IM2COL_EXT_BACKEND=c IM2COL_EXT_NUM_THREADS=1 \
HYPOTHESIS_PROFILE=valgrind \
valgrind --tool=memcheck --error-exitcode=99 --leak-check=no --track-origins=no \
  --log-file="$work/valgrind.log" \
  "$PY" -m pytest -q -p no:cacheprovider -k "not numpy" \
  tests/test_cext_kernels.py tests/test_api.py tests/test_cs231n_contract.py tests/test_errors.py \
  "$@"
rc=$?
grep -E "ERROR SUMMARY" "$work/valgrind.log" | tail -n 1
exit $rc
