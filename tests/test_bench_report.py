"""The benchmark's report: compact tables within 100 columns, the full Markdown table, the plot."""

import pytest

from im2col_ext import bench
from im2col_ext.bench import report

# The bench switches backends itself: run once.
pytestmark = pytest.mark.cross_backend


ARGS = ["--smoke", "--no-torch", "--only", "k2 p0", "--only", "maxpool", "--only", "conv"]


def test_compact_tables_fit_100_columns(capsys):
    assert bench.main(ARGS) == 0
    out = capsys.readouterr().out
    table = out[out.index("median ms per call"):]
    for line in table.splitlines()[1:]:
        assert len(line) <= report.WIDTH, line
    for title in ("im2col_indices --", "col2im_6d_cython --", "conv (fast_layers) --"):
        assert title in out


def test_markdown_prints_the_full_table(capsys):
    assert bench.main(ARGS + ["--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| case | shape | dtype | ours ms | memcpy ms | copy ms |" in out


def test_plot(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed (the [plot] extra)")
    path = tmp_path / "bench.png"
    assert bench.main(ARGS + ["--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cpu_clock(tmp_path):
    path = tmp_path / "bench.json"
    assert bench.main(["--smoke", "--no-torch", "--only", "k2 p0", "--clock", "cpu",
                       "--json", str(path)]) == 0
    assert '"clock": "cpu"' in path.read_text()
    with pytest.raises(SystemExit):
        bench.main(["--clock", "cpu", "--threads", "2"])
