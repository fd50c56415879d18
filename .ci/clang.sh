#!/usr/bin/env bash
# Portability: build the extension with clang (no OpenMP: Debian's clang has
# no omp.h without libomp-dev, so setup.py's probe turns it off) in a scratch
# copy of this checkout, and run the kernel and API tests on it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if ! command -v clang >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq >/dev/null && apt-get install -y -qq clang >/dev/null
    else
        echo "clang: not installed (apt-get install clang)"; exit 1
    fi
fi
"$PY" -m pip install -q "Cython>=3" "setuptools>=61" wheel pytest hypothesis >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$work"/
cd "$work"
CC=clang LDSHARED="clang -shared" IM2COL_EXT_REQUIRE_C=1 "$PY" setup.py -q build_ext --inplace
IM2COL_EXT_BACKEND=c "$PY" -c "import im2col_ext._cext as c; assert c.build_info['compiler'] == 'clang', c.build_info; print('clang build:', c.build_info)"
IM2COL_EXT_BACKEND=c "$PY" -m pytest -q -p no:cacheprovider tests/test_cext_kernels.py tests/test_api.py tests/test_fuzz.py
