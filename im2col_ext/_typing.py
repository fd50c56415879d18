"""Type aliases of the public API (for annotations only)."""

from typing import Any, Sequence, Tuple, Union

from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = ["Array", "ArrayLike", "DTypeLike", "Cache", "IntOrSeq", "Padding", "OptIntOrSeq"]

#: An ndarray of any dtype.
Array = NDArray[Any]
#: An int, or one int per spatial axis.
IntOrSeq = Union[int, Sequence[int]]
#: ``None`` (a default), an int, or one int per spatial axis.
OptIntOrSeq = Union[None, int, Sequence[int]]
#: An int, one int or (low, high) pair per spatial axis, "valid" or "same".
Padding = Union[int, str, Sequence[Union[int, Tuple[int, int], Sequence[int]]]]
#: A layer's private cache: pass it back unchanged.
Cache = Any
