"""Instruments that answer what a network does to shapes, parameters, multiplications and fields of view.

``summary`` (a table per layer), ``shape`` / ``layer_shape`` (the output-size formula with the numbers
filled in, costs, and the fully connected layer that would do the same job), ``receptive_field`` and
``receptive_field_for_unit`` (what part of the input a unit sees).
"""

from .macs import MAC_RULES, layer_macs, torchinfo_macs
from .receptive import FieldRow, ReceptiveField, receptive_field, receptive_field_for_unit
from .shapes import OPS, LayerShape, layer_shape, shape
from .summary import Summary, summary

__all__ = [
    "MAC_RULES",
    "OPS",
    "FieldRow",
    "LayerShape",
    "ReceptiveField",
    "Summary",
    "layer_macs",
    "layer_shape",
    "receptive_field",
    "receptive_field_for_unit",
    "shape",
    "summary",
    "torchinfo_macs",
]
