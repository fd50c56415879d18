#!/usr/bin/env bash
# Build the C extension with AddressSanitizer + UndefinedBehaviorSanitizer in a
# scratch copy of this checkout and run the whole suite under them.  Any ASan
# or UBSan report fails the run.  PyTorch is hidden (its own runtime does not
# mix with an LD_PRELOADed libasan); its cross-check tests skip.  The RSS leak
# test is left out: ASan's quarantine keeps freed memory on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" -m pip install -q "Cython>=3" "setuptools>=61" wheel pytest hypothesis >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$work"/
cd "$work"
IM2COL_EXT_SANITIZE=1 "$PY" setup.py -q build_ext --inplace >build.log 2>&1 || { cat build.log; exit 1; }
"$PY" -c "import im2col_ext._cext as c; assert c.build_info['sanitize'], c.build_info" 2>/dev/null \
  || LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0 \
     "$PY" -c "import im2col_ext._cext as c; assert c.build_info['sanitize'], c.build_info"
mkdir -p notorch/torch
echo 'raise ModuleNotFoundError("torch is hidden under the sanitizers", name="torch")' > notorch/torch/__init__.py
log=$work/sanitize.log
set +e
PYTHONPATH="$work/notorch" \
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
IM2COL_EXT_BACKEND=c \
  "$PY" -m pytest -q -p no:cacheprovider tests \
    --deselect tests/test_memory.py::test_repeated_calls_leave_memory_flat "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
reports=$(grep -cE "ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer" "$log" || true)
echo "sanitize: pytest exit $rc, sanitizer reports: $reports"
[ "$rc" -eq 0 ] && [ "$reports" -eq 0 ]
