"""Build script of im2col-ext: the OPTIONAL C extension (metadata: pyproject.toml).

The extension ``im2col_ext._cext`` (Cython wrapper ``im2col_ext/_cext.pyx``
over the plain C kernels in ``src_c/``) makes im2col_ext fast; without it
the package runs on its NumPy backend.  So a failed build -- no Cython, no
compiler, a compile error -- does not fail the install: it prints a warning
block (also to the terminal, since pip hides a successful build's output)
and installs the pure-Python package, unless

* ``IM2COL_EXT_REQUIRE_C=1`` (or ``CIBUILDWHEEL=1``): a failed build is an
  error (use it for wheels and CI);
* ``IM2COL_EXT_SANITIZE=1``: build with AddressSanitizer and UBSan
  (``-fsanitize=address,undefined -fno-omit-frame-pointer -O1 -g``, no
  OpenMP), for ``make sanitize``.

Flags: gcc/clang get ``-O3 -ffp-contract=off``, ``-falign-loops=32`` and
``-fopenmp`` when a test program compiles and links with them; MSVC gets
``/O2 /openmp``.  ``-falign-loops=32``: the short strided loops of the
col2im walks ran 1.25-1.4x slower when an unrelated change moved one across
a 64-byte line (2x2 stride-2 folds, same source; measured both builds).  Never
``-march=native`` (wheels must run anywhere) nor ``-ffast-math`` (the
kernels rely on IEEE semantics for NaN handling and bitwise determinism).
The flags actually used are written into ``im2col_ext_build_info.h`` in the
build directory and show up as ``im2col_ext._cext.build_info``.
"""

import json
import os
import shutil
import sys
import tempfile
import textwrap

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


REQUIRE_C = _env_flag("IM2COL_EXT_REQUIRE_C") or _env_flag("CIBUILDWHEEL")
SANITIZE = _env_flag("IM2COL_EXT_SANITIZE")

WARNING = """
{bar}
im2col_ext: building the C extension failed; the package will use the
slower NumPy backend.

  reason: {reason}

Everything works, only more slowly; `import im2col_ext` will emit an
im2col_ext.PerformanceWarning.  To get the fast backend, install a C
compiler (Debian/Ubuntu: apt-get install gcc python3-dev; and Cython >= 3
when building without build isolation) and reinstall with
  pip install --force-reinstall --no-deps --no-cache-dir im2col-ext
(or `make build` in a source checkout).  Set IM2COL_EXT_REQUIRE_C=1 to make
a failed build an error instead.
{bar}
"""


class BuildFailed(Exception):
    """The optional extension could not be built."""


def _c_string(text):
    """``text`` as a C string literal (ASCII, escaped)."""
    out = []
    for ch in text:
        if ch in '\\"':
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("\\%03o" % (ord(ch) & 0xFF) if ord(ch) < 256 else "?")
    return '"' + "".join(out) + '"'


class BuildExt(build_ext):
    """build_ext that cythonizes, picks flags per compiler, and can fail softly."""

    def run(self):
        try:
            self._cythonize()
            super().run()
        except BuildFailed:
            raise
        except (Exception, SystemExit) as exc:  # compiler missing, link error, ...
            raise BuildFailed(f"{type(exc).__name__}: {exc}") from exc

    def _cythonize(self):
        try:
            from Cython.Build import cythonize
            import Cython
        except ImportError as exc:
            raise BuildFailed(f"Cython >= 3 is not installed ({exc})") from exc
        if int(Cython.__version__.split(".")[0]) < 3:
            raise BuildFailed(f"Cython >= 3 is required, found {Cython.__version__}")
        # cythonize() returns new Extension objects; keep setuptools' own
        # (finalize_options has annotated them) and take over their sources.
        converted = {
            e.name: e
            for e in cythonize(
                self.extensions,
                include_path=[HERE],
                compiler_directives={"language_level": 3},
                quiet=True,
            )
        }
        for ext in self.extensions:
            ext.sources = list(converted[ext.name].sources)

    def build_extensions(self):
        ctype = self.compiler.compiler_type
        if ctype == "msvc":
            compiler = "msvc"
            cflags, ldflags = ["/O2"], []
            openmp = not SANITIZE and self._try_openmp(["/openmp"], [])
            if openmp:
                cflags.append("/openmp")
        else:
            compiler = " ".join(getattr(self.compiler, "compiler_so", [ctype])[:1]) or ctype
            if SANITIZE:
                cflags = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer",
                          "-O1", "-g"]
                ldflags = ["-fsanitize=address,undefined"]
                openmp = False
            else:
                cflags = ["-O3"]
                ldflags = []
                if self._try_flags(["-ffp-contract=off"], []):
                    cflags.append("-ffp-contract=off")
                if self._try_flags(["-falign-loops=32"], []):
                    cflags.append("-falign-loops=32")
                openmp = self._try_openmp(["-fopenmp"], ["-fopenmp"])
                if openmp:
                    cflags.append("-fopenmp")
                    ldflags.append("-fopenmp")
        info = {
            "compiler": compiler,
            "compiler_type": ctype,
            "extra_compile_args": cflags,
            "extra_link_args": ldflags,
            "openmp": openmp,
            "sanitize": SANITIZE,
            "python": sys.version.split()[0],
        }
        os.makedirs(self.build_temp, exist_ok=True)
        header = os.path.join(self.build_temp, "im2col_ext_build_info.h")
        with open(header, "w") as f:
            f.write("/* Generated by setup.py: how im2col_ext._cext was built. */\n")
            f.write("#define I2C_BUILD_INFO_JSON " + _c_string(json.dumps(info)) + "\n")
        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + cflags
            ext.extra_link_args = list(ext.extra_link_args or []) + ldflags
            ext.include_dirs = [self.build_temp] + list(ext.include_dirs or [])
        print(f"im2col_ext: compiler {compiler} ({ctype}), flags {cflags}, "
              f"link {ldflags}, OpenMP {'on' if openmp else 'off'}")
        super().build_extensions()

    def _try_flags(self, cflags, ldflags, body=None, link=False):
        """Whether a small program compiles (and links) with these flags."""
        body = body or "int main(void) { return 0; }\n"
        tmp = tempfile.mkdtemp(prefix="im2col_ext_probe_")
        try:
            src = os.path.join(tmp, "probe.c")
            with open(src, "w") as f:
                f.write(body)
            devnull = open(os.devnull, "w")
            saved = os.dup(1), os.dup(2)
            try:
                # Keep the probe's compiler chatter off the console.
                os.dup2(devnull.fileno(), 1)
                os.dup2(devnull.fileno(), 2)
                objs = self.compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
                if link:
                    self.compiler.link_executable(
                        objs, "probe", output_dir=tmp, extra_postargs=ldflags
                    )
            finally:
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
                devnull.close()
            return True
        except Exception:
            return False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _try_openmp(self, cflags, ldflags):
        body = textwrap.dedent("""\
            #include <omp.h>
            int main(void) {
                int n = 0;
            #pragma omp parallel
                {
            #pragma omp atomic
                    n += 1;
                }
                return omp_get_max_threads() > 0 && n > 0 ? 0 : 1;
            }
            """)
        return self._try_flags(cflags, ldflags, body, link=True)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except (Exception, SystemExit) as exc:
            raise BuildFailed(f"{type(exc).__name__}: {exc}") from exc


def _tell_the_user(text):
    """Write ``text`` where the person running the install will see it.

    pip captures a build's output and shows it only when the build fails
    (or with ``pip install -v``), so a fallback build would print its
    warning into the void.  The block goes to stderr (kept in pip's verbose
    log) and, when there is a controlling terminal, straight to it as well.
    """
    sys.stderr.write(text)
    sys.stderr.flush()
    if sys.stderr.isatty():
        return  # the user sees stderr already
    try:
        with open("/dev/tty", "w") as tty:  # POSIX only; absent without a terminal (CI)
            tty.write(text)
    except OSError:
        pass


def run_setup(with_extension):
    """setup() with or without the extension; the metadata is in pyproject.toml."""
    ext_modules = []
    if with_extension:
        ext_modules = [
            Extension(
                "im2col_ext._cext",
                sources=["im2col_ext/_cext.pyx", "src_c/im2col_ext.c", "src_c/winograd.c",
                         "src_c/depthwise.c"],
                include_dirs=["src_c"],
                depends=["src_c/im2col_ext.h", "src_c/im2col_ext_template.c", "src_c/i2c_range.h",
                         "src_c/winograd.h", "src_c/winograd_template.c",
                         "src_c/depthwise.h", "src_c/depthwise_template.c",
                         "im2col_ext/_kernels.pxd"],
            )
        ]
    setup(ext_modules=ext_modules, cmdclass={"build_ext": BuildExt})


try:
    run_setup(with_extension=True)
except BuildFailed as exc:
    if REQUIRE_C:
        sys.stderr.write(
            f"\nim2col_ext: building the C extension failed and IM2COL_EXT_REQUIRE_C=1 "
            f"(or CIBUILDWHEEL=1) requires it: {exc}\n"
        )
        raise SystemExit(1)
    _tell_the_user(WARNING.format(bar="*" * 75, reason=exc))
    run_setup(with_extension=False)
    sys.stderr.write(WARNING.format(bar="*" * 75, reason=exc))  # last in a verbose log too
