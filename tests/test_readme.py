"""Every ```python block of README.md runs, so the examples cannot drift from the code.

The blocks run in order, in one namespace per file (like a doctest file:
a later block may use the names of an earlier one), in a temporary working
directory.  A block runs on the default backend.

Conventions for README authors:

* a ```python block must run as written (other languages, e.g. ```bash or
  plain ``` blocks, are not run);
* an HTML comment on the line just before the opening fence controls it:
  ``<!-- readme-test: skip -->`` leaves that block out (say why in the
  text), ``<!-- readme-test: requires torch -->`` (any importable module
  names, separated by spaces) skips it where one is not installed.
"""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

FENCE = re.compile(
    r"(?:^<!--\s*readme-test:\s*(?P<directive>[^>]*?)\s*-->\s*\n)?"
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.M | re.S,
)

pytestmark = pytest.mark.any_backend


def python_blocks(text):
    """(line number, directive, code) of each ```python block of ``text``."""
    blocks = []
    for m in FENCE.finditer(text):
        if m.group("lang").lower() not in ("python", "py", "python3"):
            continue
        line = text.count("\n", 0, m.start("body")) + 1
        indent = m.group("indent")
        code = "".join(l[len(indent):] if l.startswith(indent) else l
                       for l in m.group("body").splitlines(True))
        blocks.append((line, (m.group("directive") or "").strip(), code))
    return blocks


def test_the_extractor_finds_blocks_and_directives():
    text = ("x\n```python\na = 1\n```\n```bash\nls\n```\n"
            "<!-- readme-test: skip -->\n```python\nraise SystemExit\n```\n"
            "  ```py\n  b = 2\n  ```\n")
    got = python_blocks(text)
    assert [(d, c) for _, d, c in got] == [("", "a = 1\n"), ("skip", "raise SystemExit\n"),
                                          ("", "b = 2\n")]
    assert got[0][0] == 3


def test_readme_has_python_examples():
    assert python_blocks(README.read_text(encoding="utf-8")), "README.md has no ```python block"


def test_readme_python_blocks_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    ran = 0
    for line, directive, code in python_blocks(README.read_text(encoding="utf-8")):
        words = directive.split()
        if words[:1] == ["skip"]:
            continue
        if words[:1] == ["requires"]:
            missing = [m for m in words[1:] if importlib.util.find_spec(m) is None]
            if missing:
                continue
        elif words:
            raise AssertionError(f"README.md line {line}: unknown readme-test directive {directive!r}")
        try:
            exec(compile(code, f"README.md:{line}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(
                f"the ```python block at README.md line {line} failed: "
                f"{type(exc).__name__}: {exc}") from exc
        ran += 1
    assert ran, "no README block ran"
