"""What did the network learn, and why did it say that? Interpretability methods, drawn as pictures.

Computed on cnnlab's own autograd graph, for any ``nn.Module`` that maps (N, C, H, W) images to
(N, classes) logits; layers are named as in ``model.named_modules()``. Every method returns NumPy
arrays; the ``plot_*`` functions draw them to PNG files (matplotlib, imported when drawing).

=====================  ==============================================================================
feature_maps           the outputs of any layers for an input (default: every conv and pool layer)
filters                a conv layer's kernels
grad_cam               Grad-CAM, Grad-CAM++ and HiResCAM, upsampled to the input, in [0, 1]
saliency               gradient, gradient × input, SmoothGrad, Integrated Gradients
occlusion              the drop in the target's probability as a patch slides over the image
maximize               an input that maximises a channel's mean activation or a class logit
=====================  ==============================================================================

The model is explained in eval mode with its parameters frozen; its mode, its parameters' gradients
and its hooks are left as they were.

>>> import numpy as np
>>> from cnnlab import vis
>>> from cnnlab.models import lenet5
>>> model, x = lenet5(), np.zeros((1, 1, 28, 28), np.float32)
>>> vis.grad_cam(model, x, target=0).shape, vis.saliency(model, x, target=0).shape
((1, 28, 28), (1, 1, 28, 28))
"""

from ._common import rank_correlation
from .cam import CAM_METHODS, grad_cam, normalize_maps, upsample_maps
from .feature_maps import conv_pool_layers, feature_maps
from .filters import FILTER_MODES, conv_layers, filter_grid, filters
from .gallery import write_gallery
from .maximize import gaussian_blur, maximize
from .occlusion import occlusion, patch_positions
from .plots import (
    plot_feature_maps,
    plot_feature_overview,
    plot_filters,
    plot_grad_cam,
    plot_maximized,
    plot_methods,
    plot_occlusion,
    plot_saliency,
)
from .saliency import SALIENCY_METHODS, input_gradients, integrated_gradients, saliency, smoothgrad

__all__ = [
    "CAM_METHODS",
    "FILTER_MODES",
    "SALIENCY_METHODS",
    "conv_layers",
    "conv_pool_layers",
    "feature_maps",
    "filter_grid",
    "filters",
    "gaussian_blur",
    "grad_cam",
    "input_gradients",
    "integrated_gradients",
    "maximize",
    "normalize_maps",
    "occlusion",
    "patch_positions",
    "plot_feature_maps",
    "plot_feature_overview",
    "plot_filters",
    "plot_grad_cam",
    "plot_maximized",
    "plot_methods",
    "plot_occlusion",
    "plot_saliency",
    "rank_correlation",
    "saliency",
    "smoothgrad",
    "upsample_maps",
    "write_gallery",
]
