"""Command line: ``python -m im2col_ext {info,demo,bench}``.

``info``  version, backend, where the extension was loaded from, its build flags;
``demo``  the README's main job: the backend in use, a worked example of the
          API, and a short benchmark against the NumPy baseline;
``bench`` the benchmark suite (``--quick``, ``--json PATH``; see ``bench --help``).
"""

import argparse
import platform
import sys

import numpy as np

import im2col_ext
from im2col_ext import _backend


#: The dtypes ``info`` reports on (every NumPy numeric type).
_ALL_DTYPES = (np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
               np.uint64, np.float16, np.float32, np.float64, np.longdouble, np.complex64,
               np.complex128, np.clongdouble)


def info(args=None):
    print(f"im2col_ext {im2col_ext.__version__}")
    print(f"backend: {im2col_ext.backend} (IM2COL_EXT_BACKEND={_backend.requested})")
    if _backend.compiled is not None:
        ext = _backend.compiled
        print(f"extension: {ext.__file__}")
        build = getattr(ext, "build_info", {})
        for key in sorted(build):
            print(f"  {key}: {build[key]}")
        print(f"threads: {_backend.get_num_threads()}")
        for op in ("unfold", "fold"):
            names = [str(np.dtype(t)) for t in _ALL_DTYPES
                     if im2col_ext.backend_for(t, op) == "c"]
            print(f"{op} in C for: {', '.join(names) or 'none'}")
    else:
        print(f"extension: not available ({_backend.import_error})")
    print(f"numpy {np.__version__}; python {platform.python_version()} ({platform.machine()})")
    return 0


def demo(args=None):
    print(f"im2col_ext {im2col_ext.__version__}, backend {im2col_ext.backend!r}")
    x = np.arange(2 * 1 * 3 * 3, dtype=np.float64).reshape(2, 1, 3, 3)
    print("\nx[0, 0] =\n", x[0, 0], sep="")
    cols = im2col_ext.im2col_indices(x, 2, 2, padding=0, stride=1)
    print("\nim2col_indices(x, 2, 2, padding=0, stride=1): shape", cols.shape,
          "(rows c*fh*fw + ky*fw + kx; columns (oy*ow + ox)*N + n)")
    print(cols)
    back = im2col_ext.col2im_indices(cols, x.shape, 2, 2, padding=0, stride=1)
    print("\ncol2im_indices(...)[0, 0]: each pixel times the number of windows covering it")
    print(back[0, 0])
    t = im2col_ext.unfold(x, 2)
    print("\nunfold(x, 2) (torch layout): shape", t.shape)
    from im2col_ext import bench

    print()
    return bench.main(["--demo"])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # the bench has its own options (and --help)
        from im2col_ext import bench

        return bench.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m im2col_ext", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["info", "demo", "bench"])
    args, rest = parser.parse_known_args(argv)
    if args.command == "bench":
        from im2col_ext import bench

        return bench.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return {"info": info, "demo": demo}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
