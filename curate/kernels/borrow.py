"""Borrowed array views for numba kernels: the same data without a reference count.

Every time a numba kernel binds an array to a variable (passing it to a helper, unpacking a tuple,
``inline="always"`` inlining) it increments and later decrements the array's reference count with
atomic instructions, and LLVM's reference-count pruning cannot remove the pairs in loops with many
branches. In the word tokenizer that was ~70% of the time (perf: ``NRT_incref``/``NRT_decref``).
:func:`borrow` returns a view with a null ``meminfo``, whose reference-count updates are a null
check. Use it only for arrays that outlive the view: a kernel's own arguments, borrowed at its top.
"""

from __future__ import annotations

from numba.core import cgutils, types
from numba.extending import intrinsic


@intrinsic
def borrow(typingctx, arr):
    """``arr`` as a view without a reference count (valid while ``arr`` is alive)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        src = cgutils.create_struct_proxy(arr)(context, builder, value=args[0])
        view = cgutils.create_struct_proxy(arr)(context, builder)
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        view.nitems, view.itemsize, view.data = src.nitems, src.itemsize, src.data
        view.shape, view.strides = src.shape, src.strides
        return view._getvalue()

    return arr(arr), codegen
