"""Drop-in replacements for the Stanford cs231n helper modules.

``from cs231n.im2col import *`` becomes ``from im2col_ext.cs231n.im2col import *``;
``from cs231n.im2col_cython import col2im_6d_cython`` becomes
``from im2col_ext.cs231n.im2col_cython import col2im_6d_cython``; and
``from cs231n.fast_layers import *`` becomes
``from im2col_ext.cs231n.fast_layers import *``.  Names, defaults, layouts
and cache tuples are the course's; its bugs are fixed (see the README).
"""
