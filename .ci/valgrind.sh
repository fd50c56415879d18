#!/usr/bin/env bash
# Run the C-path tests under valgrind memcheck (a subset with few hypothesis
# examples: valgrind is ~50x slower).  Any memcheck error in im2col_ext's frames fails the run.
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
valgrind --tool=memcheck --leak-check=no --track-origins=no \
  --log-file="${VALGRIND_LOG:-$work/valgrind.log}" \
  "$PY" -m pytest -q -p no:cacheprovider -k "not numpy" \
  tests/test_cext_kernels.py tests/test_api.py tests/test_cs231n_contract.py tests/test_errors.py \
  "$@"
rc=$?
log=${VALGRIND_LOG:-$work/valgrind.log}
grep -E "ERROR SUMMARY" "$log" | tail -n 1
# Without suppression files, memcheck also reports the dynamic loader's and
# CPython's own (known, harmless) over-reads.  What counts is any error whose
# stack passes through im2col_ext: its kernels (i2c_*) or the wrapper (_cext).
ours=$("$PY" - "$log" <<'PY'
import re, sys
blocks, cur = [], []
for line in open(sys.argv[1], errors="replace"):
    body = re.sub(r"^==\d+== ?", "", line.rstrip("\n"))
    if body == "":
        if cur:
            blocks.append(cur)
        cur = []
    else:
        cur.append(body)
if cur:
    blocks.append(cur)
kinds = ("Invalid", "Conditional jump", "Use of uninitialised", "Syscall param", "Source and destination")
errors = [b for b in blocks if b[0].startswith(kinds)]
ours = [b for b in errors if any(("i2c_" in l or "_cext" in l) for l in b)]
for b in ours:
    print("\n".join(b), file=sys.stderr)
print(len(ours))
PY
)
echo "valgrind: pytest exit $rc; memcheck errors in im2col_ext frames: $ours"
[ "$ours" = "0" ] && [ "$rc" -eq 0 ]
