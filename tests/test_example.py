"""examples/train_small_cnn.py runs, learns, and reports the backend it used."""

import os
import re
import subprocess
import sys
from pathlib import Path

import im2col_ext

ROOT = Path(__file__).resolve().parents[1]
# The im2col_ext under test (installed, or the source tree with an in-place
# build): the example must import that one, not whatever else is on a path.
PACKAGE_PARENT = str(Path(im2col_ext.__file__).resolve().parents[1])


def test_train_small_cnn(backend, tmp_path):
    env = dict(os.environ, IM2COL_EXT_BACKEND=backend)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
    res = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "train_small_cnn.py"), "--quick"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert f"backend: {backend}" in out
    losses = [float(v) for v in re.findall(r"epoch \d+: loss ([0-9.]+)", out)]
    assert len(losses) == 5
    assert losses[-1] < 0.5 * losses[0]
    m = re.search(r"final: train accuracy ([0-9.]+), validation accuracy ([0-9.]+)", out)
    assert m, out
    train_acc, val_acc = map(float, m.groups())
    # four classes: chance is 0.25
    assert train_acc > 0.7 and val_acc > 0.6, out
