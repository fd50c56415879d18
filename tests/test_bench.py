"""The benchmark command runs end to end and writes well-formed JSON.

Only the structure is checked, never a timing: ``--smoke`` (a hidden option)
runs every case on tiny shapes with one round.  Benchmarks are a command,
not a test (``python -m im2col_ext bench``).
"""

import json
import math

import numpy as np
import pytest

from im2col_ext import _backend, bench


# The bench switches backends itself: run once.
pytestmark = pytest.mark.cross_backend


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The JSON and printed output of one smoke run (shared: it takes a few seconds)."""
    path = tmp_path_factory.mktemp("bench") / "bench.json"
    return path, bench.main(["--smoke", "--json", str(path), "--threads-compare"])


def _positive_finite(value):
    return isinstance(value, float) and math.isfinite(value) and value > 0


def test_smoke_run_writes_json(smoke):
    path, status = smoke
    assert status == 0
    data = json.loads(path.read_text())
    assert set(data) == {"meta", "settings", "cases", "threads_compare"}
    for key in ("platform", "cpu", "cores", "date", "python", "numpy", "torch",
                "im2col_ext", "backend", "threads", "blas_threads"):
        assert key in data["meta"]
    assert data["meta"]["backend"] == ("c" if _backend.compiled is not None else "numpy")
    assert data["settings"]["threads"] == 1
    assert len(data["cases"]) == len(bench.make_cases(tiny=True))


def test_every_case_has_medians_and_ratios(smoke):
    data = json.loads(smoke[0].read_text())
    kinds = set()
    for case in data["cases"]:
        kinds.add(case["kind"])
        if "ours" in case["skipped"]:  # e.g. a pool shape fast_layers rejects
            assert not case["medians_ms"]
            continue
        assert _positive_finite(case["medians_ms"]["ours"])
        # Every peer is either timed, with a ratio, or skipped with a reason
        # (torch where it is not installed, numpy when ours is the NumPy
        # backend): the result must not depend on which peers are installed.
        peers = set(case["medians_ms"]) - {"ours"}
        assert set(case["ratios"]) == {f"ours/{p}" for p in peers}, case
        if case["kind"] in ("pool", "conv", "conv_nd"):
            assert {"numpy", "torch"} <= peers | set(case["skipped"]), case
        for name, ratio in case["ratios"].items():
            assert name.startswith("ours/")
            assert _positive_finite(ratio), (case["op"], name, ratio)
        for name, ms in case["medians_ms"].items():
            assert _positive_finite(ms), (case["op"], name, ms)
            assert len(case["samples_ms"][name]) == 1
        for target in case["targets"]:
            assert target["met"] in (True, False, None)
            if target["met"] is not None:
                assert _positive_finite(target["ratio"])
        assert not case["mismatches"], case
    assert kinds == {"im2col", "col2im", "unfold", "fold", "pool", "conv"} | set(NEW_KINDS)


#: The kinds of issues 10 and 11 (N-d, channels last, padding modes, mean fold,
#: integers, N-d and grouped convolutions) and the peers each one's targets need.
NEW_KINDS = {"unfold_nd": {"out=", "memcpy"}, "fold_nd": {"out=", "memcpy"},
             "unfold_mode": {"out=", "zeros", "pad+unfold"}, "fold_mean": {"out=", "sum"},
             "unfold_int": {"out=", "memcpy", "numpy"}, "fold_int": {"out=", "memcpy"},
             "conv_nd": set()}


def test_new_kinds_build_and_have_medians(smoke):
    """Every N-d / mode / mean / integer / conv_nd case builds, times its peers and agrees."""
    data = json.loads(smoke[0].read_text())
    by_kind = {}
    for case in data["cases"]:
        if case["kind"] in NEW_KINDS:
            by_kind.setdefault(case["kind"], []).append(case)
    assert set(by_kind) == set(NEW_KINDS)
    expect_numpy = _backend.compiled is not None
    for kind, cases in by_kind.items():
        for case in cases:
            assert not case["skipped"].get("ours"), case
            peers = NEW_KINDS[kind] - ({"numpy"} if not expect_numpy else set())
            if case["params"].get("channel_axis") == -1 and kind.endswith("_nd"):
                peers = peers | {"cf"}  # channels last: the channels-first call beside it
            assert peers <= set(case["medians_ms"]), (kind, case["shape"], case["medians_ms"])
            assert _positive_finite(case["medians_ms"]["ours"])
            assert case["targets"], case
            assert not case["mismatches"], case
    dtypes = {c["dtype"] for c in by_kind["unfold_int"]}
    assert dtypes == {"uint8", "int16", "int32", "int64"}
    modes = {c["params"]["mode"] for c in by_kind["unfold_mode"]}
    assert modes == {"reflect", "replicate", "circular", "constant"}
    ranks = {len(c["params"]["k"]) for c in by_kind["unfold_nd"]}
    assert ranks == {1, 2, 3}


@pytest.mark.torch
def test_torch_is_a_peer_of_every_pool_and_conv_case(smoke):
    pytest.importorskip("torch")
    data = json.loads(smoke[0].read_text())
    for case in data["cases"]:
        if case["kind"] in ("pool", "conv") and "ours" not in case["skipped"]:
            assert "ours/torch" in case["ratios"], case


def test_the_memcpy_and_classic_peers_are_timed(smoke):
    data = json.loads(smoke[0].read_text())
    for case in data["cases"]:
        if case["kind"] in ("im2col", "col2im"):
            assert {"ours/memcpy", "ours/cs231n"} <= set(case["ratios"])
            assert case["cols_bytes"] > 0


def test_threads_compare(smoke):
    rows = json.loads(smoke[0].read_text())["threads_compare"]
    if _backend.compiled is None:
        assert rows == []
        return
    assert {r["op"] for r in rows} == {"im2col_indices", "col2im_indices", "max_pool_scatter"}
    for row in rows:
        assert _positive_finite(row["ratio"])


def test_settings_are_restored(smoke):
    assert _backend.name() == ("c" if _backend.compiled is not None else "numpy")


@pytest.mark.parametrize("pad", [0, 1, 2])
def test_classic_algorithm_matches_the_api(pad):
    """The cs231n peer the bench times computes the same columns and image."""
    import im2col_ext

    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 7, 6))
    cols = bench.classic_im2col(x, 3, 2, pad, 2)
    np.testing.assert_array_equal(cols, im2col_ext.im2col_indices(x, 3, 2, pad, 2))
    back = bench.classic_col2im(cols, x.shape, 3, 2, pad, 2)
    np.testing.assert_allclose(back, im2col_ext.col2im_indices(cols, x.shape, 3, 2, pad, 2))


def test_demo_prints_speedups(capsys, monkeypatch):
    original = bench.demo
    monkeypatch.setattr(bench, "demo", lambda: original(repeats=1))
    assert bench.main(["--demo"]) == 0
    out = capsys.readouterr().out
    assert "im2col_indices" in out and "col2im_indices" in out and "speed-up" in out
