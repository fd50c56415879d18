#!/usr/bin/env bash
# The test suite on every Python of the matrix (pyenv's interpreters), each in a
# fresh venv with the package installed from this checkout (C extension
# required), then once with the oldest supported NumPy.  Unlike `make test`
# (an editable install, run from the root), this tests a regular install: the
# suite runs from inside tests/ so that `import im2col_ext` finds the
# installed package, not the source tree.
# Usage: matrix.sh "3.9 3.10 ..." OLDEST_NUMPY VENV_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
pythons=${1:-"3.9 3.10 3.11 3.12 3.13"}
oldest=${2:-1.23.5}
venvs=${3:-.venvs}
root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
export IM2COL_EXT_REQUIRE_C=1
results=()
status=0

find_python() {
    ls -d "$root"/versions/"$1".*/bin/python3 2>/dev/null | sort -V | tail -n 1
}

run_one() {  # label python [extra pip args...]
    local label=$1 py=$2; shift 2
    local venv="$venvs/$label"
    echo "=== matrix: $label ($("$py" --version 2>&1))"
    if "$py" -m venv --clear "$venv" \
        && "$venv/bin/python" -m pip install -q "$@" ".[test]" \
        && (cd tests && "../$venv/bin/python" -c "import im2col_ext, sys; print('numpy', __import__('numpy').__version__, 'backend', im2col_ext.backend); sys.exit(im2col_ext.backend != 'c')") \
        && (cd tests && "../$venv/bin/python" -m pytest -q -p no:cacheprovider -x); then
        results+=("PASS $label")
    else
        results+=("FAIL $label")
        status=1
    fi
}

for v in $pythons; do
    py=$(find_python "$v")
    if [ -z "$py" ]; then
        results+=("FAIL py$v: interpreter not found under $root/versions")
        status=1
        continue
    fi
    run_one "py$v" "$py"
done

py=$(find_python 3.11)
[ -n "$py" ] && run_one "py3.11-numpy$oldest" "$py" "numpy==$oldest"

echo "=== matrix summary"
printf '%s\n' "${results[@]}"
exit $status
