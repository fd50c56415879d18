#!/usr/bin/env bash
# Prove the three ways im2col-ext gets installed, each in a fresh venv:
#
#   (a) wheel:  `make wheel`'s (.ci/wheel.sh: IM2COL_EXT_REQUIRE_C=1, then
#               auditwheel repair -> manylinux), installed where there is no
#               compiler at all (CC unset) -> im2col_ext.backend == "c"
#   (b) sdist:  installed without a compiler -> the install succeeds, the
#               backend is "numpy" and `import im2col_ext` emits
#               im2col_ext.PerformanceWarning
#   (c) sdist:  installed without a compiler but IM2COL_EXT_REQUIRE_C=1
#               -> the install fails
#   (d) sdist:  installed with a compiler -> backend "c", py.typed installed
#
# "No compiler" means CC=false CXX=false LDSHARED=false and a PATH whose
# first entry shadows gcc, cc, clang, ... with scripts that exit 1.
# Needs network access to PyPI (build requirements, numpy).  Prints one
# PASS/FAIL line per path and exits non-zero if any failed.
#
# Usage: .ci/install_paths.sh            (PYTHON=python3.12 to pick one)
#        KEEP_TMP=1 .ci/install_paths.sh (keep the temp dir and its logs)

set -u -o pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/im2col_ext_install.XXXXXX")"
if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo "temp dir (kept): $TMP"
else
    trap 'rm -rf "$TMP"' EXIT
fi

FAILS=0
report() {  # report NAME STATUS DETAIL
    if [ "$2" -eq 0 ]; then
        echo "PASS: $1"
    else
        echo "FAIL: $1 -- $3"
        FAILS=$((FAILS + 1))
    fi
}

step() { echo "--- $*"; }

# Quiet pip, no version nags; the wheel cache is bypassed where a cached
# build of our sdist could hide what this script is testing.
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
unset IM2COL_EXT_REQUIRE_C CIBUILDWHEEL IM2COL_EXT_SANITIZE IM2COL_EXT_BACKEND

# ---------------------------------------------------------------- sources
# Copy the working tree (tracked and untracked, minus ignored files), so
# that builds leave nothing behind in the repository.
SRC="$TMP/src"
mkdir -p "$SRC"
if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$REPO" && git ls-files -z -c -o --exclude-standard \
        | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | xargs -0 cp --parents -t "$SRC")
else
    cp -a "$REPO/." "$SRC/"
    rm -rf "$SRC/build" "$SRC/dist" "$SRC"/*.egg-info "$SRC"/im2col_ext/*.so
fi

# ---------------------------------------------------------------- no compiler
NOCC="$TMP/nocc"
mkdir -p "$NOCC"
for tool in cc gcc c++ g++ clang clang++ x86_64-linux-gnu-gcc aarch64-linux-gnu-gcc \
            x86_64-linux-gnu-g++ ld; do
    printf '#!/bin/sh\necho "%s: disabled by install_paths.sh" >&2\nexit 1\n' "$tool" >"$NOCC/$tool"
    chmod +x "$NOCC/$tool"
done
no_compiler() {  # run a command with every compiler disabled
    env PATH="$NOCC:$PATH" CC=false CXX=false LDSHARED=false LDCXXSHARED=false "$@"
}

new_venv() {  # new_venv DIR: a venv with numpy (installed normally)
    "$PY" -m venv "$1" && "$1/bin/python" -m pip install -q "numpy>=1.23"
}

# Run Python checks from a directory outside the sources, so that the
# installed package (not ./im2col_ext) is imported.
CHECKDIR="$TMP/check"
mkdir -p "$CHECKDIR"

# ---------------------------------------------------------------- builder
step "builder venv ($("$PY" --version 2>&1))"
BUILDER="$TMP/builder"
if ! { "$PY" -m venv "$BUILDER" && "$BUILDER/bin/python" -m pip install -q build; } \
        >"$TMP/builder.log" 2>&1; then
    cat "$TMP/builder.log"
    echo "FAIL: could not set up the builder venv"
    exit 1
fi

# ---------------------------------------------------------------- (a) wheel
step "(a) \`make wheel\`'s manylinux wheel (.ci/wheel.sh), installed without a compiler"
status=0
detail=""
if ! PYTHON="$PY" bash "$REPO/.ci/wheel.sh" "$TMP/wheels" >"$TMP/a_build.log" 2>&1; then
    status=1; detail="building the wheel failed (see $TMP/a_build.log)"
    tail -30 "$TMP/a_build.log"
else
    WHEEL="$(tail -n 1 "$TMP/a_build.log")"
    grep -A1 "is consistent" "$TMP/a_build.log" | tr -s ' \n' ' ' | sed 's/^/    /'; echo
    echo "    $(basename "$WHEEL")"
    case "$WHEEL" in
        *-none-any.whl) status=1; detail="the wheel is pure Python: the extension is missing" ;;
        *manylinux*) ;;
        *) status=1; detail="the wheel is not manylinux-tagged" ;;
    esac
fi
if [ $status -eq 0 ]; then
    # CC and CXX unset, every compiler on PATH shadowed by a failing script.
    if ! new_venv "$TMP/va" >"$TMP/a_venv.log" 2>&1; then
        status=1; detail="venv setup failed"
    elif ! env -u CC -u CXX PATH="$NOCC:$PATH" "$TMP/va/bin/python" -m pip install \
            --no-cache-dir --no-deps "$WHEEL" >"$TMP/a_install.log" 2>&1; then
        status=1; detail="installing the wheel failed"; tail -20 "$TMP/a_install.log"
    elif ! (cd "$CHECKDIR" && env -u CC -u CXX PATH="$NOCC:$PATH" \
            "$TMP/va/bin/python" -W error::UserWarning -c '
import im2col_ext, im2col_ext._cext as c, numpy as np, os
assert im2col_ext.backend == "c", im2col_ext.backend
x = np.arange(2 * 3 * 5 * 5, dtype=np.float64).reshape(2, 3, 5, 5)
cols = im2col_ext.im2col_indices(x, 3, 3, 1, 1)
back = im2col_ext.col2im_indices(cols, x.shape, 3, 3, 1, 1)
assert back.shape == x.shape and cols.shape == (27, 50)
pkg = os.path.dirname(im2col_ext.__file__)
assert os.path.isfile(os.path.join(pkg, "py.typed"))
print("    backend", im2col_ext.backend, "| openmp", c.openmp, "|", c.__file__)
'); then
        status=1; detail="backend is not 'c' (or the wheel does not run)"
    fi
fi
report "(a) manylinux wheel -> backend 'c' without a compiler" $status "$detail"

# ---------------------------------------------------------------- sdist
step "building the sdist"
if ! "$BUILDER/bin/python" -m build --sdist --outdir "$TMP/sdist" "$SRC" \
        >"$TMP/sdist.log" 2>&1; then
    tail -20 "$TMP/sdist.log"
    report "(b) sdist without a compiler -> numpy backend + PerformanceWarning" 1 "no sdist"
    report "(c) sdist, IM2COL_EXT_REQUIRE_C=1, no compiler -> install fails" 1 "no sdist"
    exit 1
fi
SDIST="$(ls "$TMP"/sdist/im2col_ext-*.tar.gz 2>/dev/null | head -1)"
echo "    $(basename "$SDIST")"
LISTING="$(tar -tzf "$SDIST")"
for f in LICENSE pyproject.toml im2col_ext/py.typed src_c/im2col_ext.h src_c/im2col_ext.c src_c/im2col_ext_template.c \
         im2col_ext/_cext.pyx im2col_ext/_kernels.pxd; do
    grep -q "/$f\$" <<<"$LISTING" || echo "    WARNING: $f missing from the sdist"
done
if grep -q "/im2col_ext/_cext.c\$" <<<"$LISTING"; then
    echo "    WARNING: the generated im2col_ext/_cext.c is in the sdist"
fi

# ---------------------------------------------------------------- (b) fallback
step "(b) sdist installed without a compiler"
status=0
detail=""
if ! new_venv "$TMP/vb" >"$TMP/b_venv.log" 2>&1; then
    status=1; detail="venv setup failed"
elif ! no_compiler "$TMP/vb/bin/python" -m pip install -v --no-cache-dir "$SDIST" \
        >"$TMP/b_install.log" 2>&1; then
    status=1; detail="the install failed although the extension is optional"
    tail -30 "$TMP/b_install.log"
else
    if grep -q "building the C extension failed" "$TMP/b_install.log"; then
        echo "    the build printed the warning block"
    else
        status=1; detail="no warning block in the build output"
    fi
    if ! (cd "$CHECKDIR" && "$TMP/vb/bin/python" -c '
import warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import im2col_ext
assert im2col_ext.backend == "numpy", im2col_ext.backend
perf = [w for w in caught if issubclass(w.category, im2col_ext.PerformanceWarning)]
assert len(perf) == 1, [str(w.message) for w in caught]
print("    backend", im2col_ext.backend, "| warning:", str(perf[0].message)[:70], "...")
'); then
        status=1; detail="${detail:+$detail; }backend/PerformanceWarning check failed"
    fi
fi
report "(b) sdist without a compiler -> numpy backend + PerformanceWarning" $status "$detail"

# ---------------------------------------------------------------- (c) required
step "(c) sdist installed without a compiler, IM2COL_EXT_REQUIRE_C=1"
status=0
detail=""
if ! new_venv "$TMP/vc" >"$TMP/c_venv.log" 2>&1; then
    status=1; detail="venv setup failed"
elif IM2COL_EXT_REQUIRE_C=1 no_compiler "$TMP/vc/bin/python" -m pip install -v --no-cache-dir \
        "$SDIST" >"$TMP/c_install.log" 2>&1; then
    status=1; detail="the install succeeded although the C extension was required"
elif ! grep -q "IM2COL_EXT_REQUIRE_C=1" "$TMP/c_install.log"; then
    status=1; detail="the install failed, but not with the REQUIRE_C message"
    tail -30 "$TMP/c_install.log"
elif (cd "$CHECKDIR" && "$TMP/vc/bin/python" -c "import im2col_ext" 2>/dev/null); then
    status=1; detail="the package is importable after the failed install"
else
    echo "    pip failed as required"
fi
report "(c) sdist, IM2COL_EXT_REQUIRE_C=1, no compiler -> install fails" $status "$detail"

# ---------------------------------------------------------------- (d) compiled
step "(d) sdist (python -m build) installed with a compiler"
status=0
detail=""
if ! new_venv "$TMP/vd" >"$TMP/d_venv.log" 2>&1; then
    status=1; detail="venv setup failed"
elif ! IM2COL_EXT_REQUIRE_C=1 "$TMP/vd/bin/python" -m pip install --no-cache-dir "$SDIST" \
        >"$TMP/d_install.log" 2>&1; then
    status=1; detail="the install failed"; tail -30 "$TMP/d_install.log"
elif ! (cd "$CHECKDIR" && "$TMP/vd/bin/python" -W error::UserWarning -c '
import im2col_ext, os
assert im2col_ext.backend == "c", im2col_ext.backend
assert os.path.isfile(os.path.join(os.path.dirname(im2col_ext.__file__), "py.typed"))
print("    backend", im2col_ext.backend, "| version", im2col_ext.__version__)
'); then
    status=1; detail="backend is not 'c'"
elif ! "$TMP/vd/bin/python" -c '
import importlib.metadata as m
md = m.metadata("im2col-ext")
assert md["License-Expression"] == "MIT", md["License-Expression"]
assert any(f.name == "LICENSE" for f in m.files("im2col-ext")), "no LICENSE file installed"
'; then
    status=1; detail="the metadata names no license (or LICENSE is not installed)"
fi
report "(d) sdist with a compiler -> backend 'c'" $status "$detail"

if [ $FAILS -ne 0 ]; then
    echo "install paths: $FAILS FAILED"
    exit 1
fi
echo "install paths: all PASSED"
