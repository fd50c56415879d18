"""The benchmark suite: ``python -m im2col_ext bench`` (and the README's ``demo``).

Every case times im2col_ext ("ours", on the compiled backend when it is
built) side by side with its peers, in one process and in interleaved
rounds, so that machine noise hits all of them alike; it reports the median
time of each and the ratio ours/peer (lower is better for ours).  The peers:

``memcpy``  ``np.copyto`` between two preallocated arrays of the columns'
            size: the memory-speed limit of a gather or a scatter, the peer
            of ours writing into a preallocated output;
``copy``    ``cols.copy()``, a copy into a fresh array of the columns' size
            (page faults included): the peer of ours allocating its output;
``out=``    ours writing into a preallocated output (the ``out=`` argument);
``numpy``   the same im2col_ext call on the NumPy backend;
``cs231n``  the classic course algorithm (:mod:`.classic`): a fancy-index
            gather for im2col and ``np.add.at`` for col2im;
``torch``   ``torch.nn.functional`` (unfold, fold, max_pool2d and conv1d/2d/3d,
            forward and backward through autograd), when torch is installed;
            for the course layouts, torch's unfold / fold of the same data;
``layers``  for ``cs231n.fast_layers`` convolutions, ``im2col_ext.layers``
            on the same convolution;
``gemm``    for ``layers`` convolutions that run by Winograd, the same call
            with ``algorithm="gemm"`` (im2col and matrix products).
``f2x2``    for ``layers`` convolutions that run by Winograd F(4x4, 3x3)
            (float32), the same call by F(2x2, 3x3) (``algorithm="winograd"``).
``cf``      for channels-last unfold / fold, the same call (``out=``) on the
            channels-first transpose of the same data;
``zeros``   for unfold with a ``padding_mode``, the same shape with the
            default zero padding (``out=``);
``pad+unfold``  the same padding mode by ``np.pad`` then an unpadded unfold
            (a padded copy: what unfold avoids); checked against ours;
``sum``     for ``fold(reduction="mean")``, ``reduction="sum"`` (``out=``),
            checked against ours after dividing by the count of taps.

Threads: im2col_ext, torch and the BLAS are held to the same count
(``--threads``, default 1).  The BLAS is limited with ``threadpoolctl``
when it is installed; otherwise its thread count can only be set before
Python starts (``OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1``),
and the header says it is not controlled.

The subpackage: :mod:`.cases` (shapes, targets, peers, one builder per
kind), :mod:`.classic` (the course algorithm), :mod:`.timing` (interleaved
rounds, thread settings), :mod:`.report` (tables, JSON, the plot).
Benchmarks are a command, not a test: ``tests/test_bench.py`` only checks
the output's structure.
"""

import argparse
import gc
import json
import sys
import time

import numpy as np

import im2col_ext
from im2col_ext import _backend

from . import report
from .cases import TORCH, WINDOW_SHAPES, make_cases
from .classic import classic_col2im, classic_im2col
from .timing import (
    CLOCKS,
    load_average,
    machine_info,
    measure,
    on_backend,
    ours_backend,
    restore_threads,
    run_case,
    set_threads,
    threads_compare,
)

__all__ = ["main", "demo", "make_cases", "classic_im2col", "classic_col2im"]


def demo(repeats=7):
    """A few seconds: im2col / col2im_indices, ours vs the NumPy backend vs the classic."""
    (_, c, h, w), k, pad, s = WINDOW_SHAPES[2]  # a typical 3x3 conv layer's input
    n = 16
    dtype = "float64"
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w))
    cols = im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s)
    backend = ours_backend()
    print(f"speed: x {n}x{c}x{h}x{w} {dtype}, {k}x{k} windows, padding {pad}, stride {s}; "
          f"cols {cols.shape[0]}x{cols.shape[1]} ({cols.nbytes / 1e6:.1f} MB); "
          f"median of {repeats} interleaved rounds, 1 thread")
    if backend != "c":
        print("(the compiled extension is not built: ours is the NumPy backend)")
    ops = [
        ("im2col_indices", lambda: im2col_ext.im2col_indices(x, k, k, padding=pad, stride=s),
         lambda: classic_im2col(x, k, k, pad, s), "fancy-index gather"),
        ("col2im_indices",
         lambda: im2col_ext.col2im_indices(cols, x.shape, k, k, padding=pad, stride=s),
         lambda: classic_col2im(cols, x.shape, k, k, pad, s), "np.add.at"),
    ]
    rows = []
    for op, ours, classic, how in ops:
        callables = {"ours": on_backend(backend, ours), "numpy": on_backend("numpy", ours),
                     "cs231n": classic}
        medians, _, _, errors = measure(callables, repeats, 0.03)
        if errors:
            print(f"{op} failed: {errors}")
            return 1
        t = medians["ours"]
        rows.append([op, f"{report.fmt_ms(t)} ms",
                     f"{report.fmt_ms(medians['numpy'])} ms  {medians['numpy'] / t:4.1f}x",
                     f"{report.fmt_ms(medians['cs231n'])} ms  {medians['cs231n'] / t:4.1f}x"
                     f"  {how}"])
    print()
    report.print_table(["", f"im2col_ext ({backend})", "NumPy backend, speed-up",
                        "cs231n classic, speed-up"], rows, align="lrrl")
    print("\nspeed-up = the peer's time / im2col_ext's time (higher is better for im2col_ext); "
          "full suite: python -m im2col_ext bench")
    return 0


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m im2col_ext bench",
        description="Benchmark im2col_ext against memcpy, a fresh copy, its NumPy backend, "
                    "the classic cs231n algorithm and torch; medians of interleaved rounds, "
                    "ratios ours/peer (lower is better for ours).")
    parser.add_argument("--quick", action="store_true",
                        help="a short run (batch / 4, 5 rounds): a few minutes on 2 cores")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--demo", action="store_true",
                        help="a few seconds: ours vs the NumPy backend vs cs231n np.add.at")
    parser.add_argument("--json", metavar="PATH", help="write every median and ratio to PATH")
    parser.add_argument("--markdown", action="store_true",
                        help="print the full table (every peer's time and ratio) as Markdown "
                             "instead of the compact tables")
    parser.add_argument("--plot", metavar="FILE.png",
                        help="draw the targets' ratios into FILE.png (needs matplotlib: "
                             "pip install im2col_ext[plot])")
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="threads for im2col_ext, torch and the BLAS (default 1)")
    parser.add_argument("--threads-compare", action="store_true",
                        help="also time the C kernels on 1 vs 2 threads (always in a full run)")
    parser.add_argument("--repeats", type=int, metavar="R",
                        help="timed rounds per case (default 9, --quick 5)")
    parser.add_argument("--only", metavar="TEXT", action="append",
                        help="only cases whose name, kind, shape or dtype contains TEXT "
                             "(repeatable)")
    parser.add_argument("--no-torch", action="store_true", help="do not import torch")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                        help="wall time (default), or the CPU time of the calling thread "
                             "(--threads 1 only; steadier on a busy shared machine)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if args.clock == "cpu" and args.threads != 1:
        parser.error("--clock cpu times the calling thread only: use it with --threads 1")
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib (pip install im2col_ext[plot])")
    return args


def main(argv=None):
    """Run the benchmark suite (or the demo); returns the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else list(argv))
    previous_backend = _backend.name()
    try:
        if args.demo:
            set_threads(1)
            return demo()
        return run_suite(args)
    finally:
        restore_threads()
        _backend.use(previous_backend)


def run_suite(args):
    if args.smoke:
        scale, tiny, repeats, min_sample = 1.0, True, 1, 0.0
    elif args.quick:
        scale, tiny, repeats, min_sample = 0.25, False, 5, 0.005
    else:
        scale, tiny, repeats, min_sample = 1.0, False, 9, 0.02
    repeats = args.repeats or repeats
    TORCH.load(not args.no_torch)
    blas = set_threads(args.threads)
    meta = machine_info(args.threads, blas)
    settings = {"quick": args.quick, "smoke": args.smoke, "repeats": repeats,
                "min_sample_s": min_sample, "batch_scale": scale, "threads": args.threads,
                "clock": args.clock}
    report.print_header(meta)
    print(f"settings: {args.clock} clock; {repeats} interleaved rounds per case, median; "
          f"samples >= "
          f"{min_sample * 1e3:g} ms; batch x{scale:g}{' (smoke: tiny shapes)' if tiny else ''}")
    print()

    cases = make_cases(scale, tiny)
    if args.only:
        cases = [c for c in cases
                 if any(t in f"{c.op} {c.kind} {c.label} {c.dtype}" for t in args.only)]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for i, case in enumerate(cases, 1):
        run_case(case, repeats, min_sample, rng, CLOCKS[args.clock])
        if not args.smoke:  # measure() collects before timing; this frees the case's arrays
            gc.collect()
        if "ours" in case.skipped:
            status = f"skipped ({case.skipped['ours']})"
        else:
            status = "; ".join(f"{p} {report.fmt_ms(t)}" for p, t in case.medians.items())
        print(f"[{i:3d}/{len(cases)}] {case.op} {case.label} {case.dtype} (ms): {status}",
              flush=True)

    thread_rows = []
    if args.threads_compare or not (args.quick or args.smoke):
        thread_rows = threads_compare(scale, tiny, repeats, min_sample, rng)
        _backend.set_num_threads(args.threads)
    elapsed = time.perf_counter() - start

    meta["load_average_end"] = load_average()
    print(f"\nmedian ms per call; /peer = ours / peer (lower is better for ours); "
          f"{elapsed:.0f} s in all; load average {meta['load_average_end']} at the end\n")
    if args.markdown:
        report.print_table(report.FULL_HEADER, report.full_rows(cases), True, report.FULL_ALIGN)
        print()
    else:
        report.print_compact(cases)
    report.print_notes(cases)
    report.print_threads(thread_rows, args.markdown)
    if args.threads_compare and not thread_rows:
        print("\nthreads compare: needs the compiled extension")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report.to_json(meta, settings, cases, thread_rows), f, indent=1)
        print(f"\nwrote {args.json}")
    if args.plot:
        report.plot(cases, args.plot, meta)
        print(f"wrote {args.plot}")
    return 0
