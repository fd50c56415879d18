"""im2col_ext: fast im2col / col2im (unfold / fold) and conv / pooling layers for NumPy.

Compiled C kernels when the extension is built, a NumPy twin otherwise (see
``im2col_ext.backend`` and the ``IM2COL_EXT_BACKEND`` variable).  The top
level carries the cs231n helpers, so legacy code can ``import im2col_ext as
im2col`` and call ``im2col.im2col_indices(...)``; ``im2col_ext.cs231n``
mirrors the course modules; ``im2col_ext.layers`` has whole layers.
"""

from . import _backend
from ._api import (
    backend_for,
    col2im,
    col2im_indices,
    fold,
    get_im2col_indices,
    im2col,
    im2col_indices,
    unfold,
)
from ._backend import PerformanceWarning, get_num_threads, set_num_threads
from ._memory import release as release_memory

__version__ = "0.1.0"

__all__ = [
    "backend",
    "backend_for",
    "col2im",
    "col2im_indices",
    "fold",
    "get_im2col_indices",
    "get_num_threads",
    "im2col",
    "im2col_indices",
    "PerformanceWarning",
    "release_memory",
    "set_num_threads",
    "unfold",
    "__version__",
]


def __getattr__(name):
    # ``backend`` is computed on access so that it always names the kernels
    # in use ("c" or "numpy"), even after a test switches them.
    if name == "backend":
        return _backend.name()
    raise AttributeError(f"module 'im2col_ext' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"backend"})
