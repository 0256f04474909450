"""Worked arithmetic and pictures: how exactly each number of a convolution or pooling is computed.

``conv``, ``pool``, ``conv_transpose`` and ``unfold`` return an :class:`Explanation` that prints as the
whiteboard computation; ``render`` draws it as a PNG or an animated GIF; ``kernel_gallery`` and
``filter_image`` apply the classic image kernels to a picture; ``receptive_field_image`` shades what one
unit sees. Pillow is imported only by the drawing functions.
"""

from .arithmetic import Explanation, Step, conv, conv_transpose, pool, unfold
from .kernels import KERNELS, apply_kernel, filter_image, kernel_gallery, load_image
from .receptive import receptive_field_image
from .render import draw_frame, render

__all__ = [
    "KERNELS",
    "Explanation",
    "Step",
    "apply_kernel",
    "conv",
    "conv_transpose",
    "draw_frame",
    "filter_image",
    "kernel_gallery",
    "load_image",
    "pool",
    "receptive_field_image",
    "render",
    "unfold",
]
