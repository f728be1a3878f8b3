"""Folding constant scale-and-shift steps into neighbouring convolutions (exact, FP32).

PP-LCNetV3 (the backbone of the PP-OCRv5 mobile models) follows almost every convolution
and every activation with a "learnable affine block": ``y = s * x + b`` with scalar ``s`` and
``b``, exported as a separate Mul and Add. onnxruntime does not fuse them (the constant is the
first input of the Mul), so a quarter of the recognizer's time goes to streaming whole feature
maps through memory twice for two multiply-adds. The same algebra that folds a batch norm
folds them into the weights:

- after a convolution: ``s * (W*x + B) + b == (s*W)*x + (s*B + b)``;
- before a convolution without padding: ``W*(s*x + b) == (W*s)*x + (B + W·b)``;
- before a padded convolution only the scale can move (the zero padding would otherwise see
  ``b``): ``W*(s*x + b) == (W*s)*(x + b/s)``, which leaves one Add instead of a Mul and an Add.

The input is a model already through onnxruntime's basic optimisations (constants folded,
batch norms fused, so every Conv has its weights and bias as initializers); the output
computes the same function up to float rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper


@dataclass
class FoldReport:
    after_conv: int = 0  # Mul/Add pairs merged into the convolution before them
    before_conv: int = 0  # merged into an unpadded convolution after them
    scale_only: int = 0  # scale merged into a padded convolution after them, shift kept

    @property
    def total(self) -> int:
        return self.after_conv + self.before_conv + self.scale_only


def _key(node: onnx.NodeProto) -> tuple[str, ...]:
    """A node's identity: its output names, unique in a valid graph.

    Not ``id(node)``: protobuf hands out a new Python wrapper for a repeated-field element on
    access, and a freed wrapper's id can be reused by another node's wrapper, which made a
    removed node look alive (or a live one look removed) from one run to the next.
    """
    return tuple(node.output)


class _Graph:
    """Indexes over an ONNX graph that stay valid while nodes are rewired and removed."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.graph = model.graph
        self.initializers = {init.name: init for init in self.graph.initializer}
        self.outputs = {out.name for out in self.graph.output}
        self.removed: set[tuple[str, ...]] = set()
        self._reindex()

    def _reindex(self) -> None:
        self.producer: dict[str, onnx.NodeProto] = {}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for node in self.graph.node:
            if _key(node) in self.removed:
                continue
            for name in node.output:
                self.producer[name] = node
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def constant(self, name: str) -> np.ndarray | None:
        init = self.initializers.get(name)
        return None if init is None else numpy_helper.to_array(init)

    def set_constant(self, name: str, value: np.ndarray) -> None:
        self.initializers[name].CopyFrom(numpy_helper.from_array(value.astype(np.float32), name))

    def add_constant(self, name: str, value: np.ndarray) -> str:
        tensor = numpy_helper.from_array(value.astype(np.float32), name)
        self.graph.initializer.append(tensor)
        self.initializers[name] = self.graph.initializer[-1]
        return name

    def only_consumer(self, name: str) -> onnx.NodeProto | None:
        users = self.consumers.get(name, [])
        if len(users) != 1 or name in self.outputs:
            return None
        return users[0]

    def bypass(self, node: onnx.NodeProto, replacement: str) -> None:
        """Remove a single-output node; whoever read its output reads ``replacement`` instead."""
        output = node.output[0]
        for user in self.consumers.get(output, []):
            for index, name in enumerate(user.input):
                if name == output:
                    user.input[index] = replacement
        self.removed.add(_key(node))
        self._reindex()

    def finish(self) -> None:
        kept = [node for node in self.graph.node if _key(node) not in self.removed]
        del self.graph.node[:]
        self.graph.node.extend(kept)
        used = {name for node in kept for name in node.input}
        unused = [init for init in self.graph.initializer if init.name not in used]
        for init in unused:
            self.graph.initializer.remove(init)


def _affine_operand(graph: _Graph, node: onnx.NodeProto, op_type: str, channels: int) -> tuple[str, np.ndarray] | None:
    """(the variable input, the constant) when ``node`` is ``op_type`` of a tensor and a foldable constant."""
    if node.op_type != op_type or len(node.input) != 2:
        return None
    for variable, const_name in ((node.input[0], node.input[1]), (node.input[1], node.input[0])):
        value = graph.constant(const_name)
        if value is None or graph.constant(variable) is not None:
            continue
        per_channel = _per_channel(value, channels)
        if per_channel is not None:
            return variable, per_channel
    return None


def _per_channel(value: np.ndarray, channels: int) -> np.ndarray | None:
    """The constant as one value per channel of an NCHW tensor, if it broadcasts that way."""
    if value.size == 1:
        return np.full(channels, float(value.reshape(-1)[0]), dtype=np.float64)
    if value.size == channels and value.ndim >= 3 and value.shape[-1] == 1 and value.shape[-2] == 1:
        return value.reshape(-1).astype(np.float64)
    return None


def _conv_parts(graph: _Graph, conv: onnx.NodeProto) -> tuple[np.ndarray, np.ndarray] | None:
    if conv.op_type != "Conv" or len(conv.input) < 2:
        return None
    weight = graph.constant(conv.input[1])
    if weight is None or weight.ndim != 4:
        return None
    if len(conv.input) > 2 and conv.input[2]:
        bias = graph.constant(conv.input[2])
        if bias is None:
            return None
    else:
        bias = np.zeros(weight.shape[0], dtype=np.float32)
    return weight.astype(np.float64), bias.astype(np.float64)


def _store_conv(graph: _Graph, conv: onnx.NodeProto, weight: np.ndarray, bias: np.ndarray) -> None:
    # Weights may be shared by several convolutions: write new tensors rather than edit in place.
    weight_name = graph.add_constant(f"{conv.input[1]}_folded_{len(graph.initializers)}", weight)
    bias_name = graph.add_constant(f"{conv.name or conv.output[0]}_bias_folded_{len(graph.initializers)}", bias)
    conv.input[1] = weight_name
    if len(conv.input) > 2:
        conv.input[2] = bias_name
    else:
        conv.input.append(bias_name)


def _attribute(node: onnx.NodeProto, name: str, default: object) -> object:
    for attribute in node.attribute:
        if attribute.name == name:
            return onnx.helper.get_attribute_value(attribute)
    return default


def _is_unpadded(conv: onnx.NodeProto) -> bool:
    auto_pad = _attribute(conv, "auto_pad", b"NOTSET")
    pads = _attribute(conv, "pads", [0, 0, 0, 0])
    return auto_pad in (b"NOTSET", b"VALID", "NOTSET", "VALID") and not any(pads)  # type: ignore[arg-type]


def _fold_after_conv(graph: _Graph, conv: onnx.NodeProto, report: FoldReport) -> bool:
    parts = _conv_parts(graph, conv)
    user = graph.only_consumer(conv.output[0])
    if parts is None or user is None:
        return False
    weight, bias = parts
    channels = weight.shape[0]
    scale = _affine_operand(graph, user, "Mul", channels)
    shift = _affine_operand(graph, user, "Add", channels)
    if scale is not None and scale[0] == conv.output[0]:
        weight = weight * scale[1][:, None, None, None]
        bias = bias * scale[1]
    elif shift is not None and shift[0] == conv.output[0]:
        bias = bias + shift[1]
    else:
        return False
    _store_conv(graph, conv, weight, bias)
    graph.bypass(user, conv.output[0])
    report.after_conv += 1
    return True


def _input_channel_index(weight: np.ndarray, groups: int) -> np.ndarray:
    """For each (out, in) position of the weight, which channel of the conv's input it reads."""
    out_channels, in_per_group = weight.shape[:2]
    out_per_group = out_channels // groups
    group_of_out = np.arange(out_channels) // out_per_group
    return group_of_out[:, None] * in_per_group + np.arange(in_per_group)[None, :]


def _fold_before_conv(graph: _Graph, mul: onnx.NodeProto, report: FoldReport) -> bool:
    """Mul(s) -> Add(b) -> Conv, each the only reader of the one before."""
    add = graph.only_consumer(mul.output[0])
    conv = graph.only_consumer(add.output[0]) if add is not None else None
    if add is None or conv is None or conv.input[0] != add.output[0]:
        return False
    parts = _conv_parts(graph, conv)
    if parts is None:
        return False
    weight, bias = parts
    groups = int(_attribute(conv, "group", 1))  # type: ignore[arg-type]
    in_channels = weight.shape[1] * groups
    scale = _affine_operand(graph, mul, "Mul", in_channels)
    shift = _affine_operand(graph, add, "Add", in_channels)
    if scale is None or shift is None or shift[0] != mul.output[0]:
        return False
    source, s = scale
    b = shift[1]
    channel = _input_channel_index(weight, groups)
    if _is_unpadded(conv):
        bias = bias + (weight * b[channel][:, :, None, None]).sum(axis=(1, 2, 3))
        weight = weight * s[channel][:, :, None, None]
        _store_conv(graph, conv, weight, bias)
        graph.bypass(add, mul.output[0])
        graph.bypass(mul, source)
        report.before_conv += 1
        return True
    if np.any(s == 0):
        return False
    weight = weight * s[channel][:, :, None, None]
    _store_conv(graph, conv, weight, bias)
    # The Add now shifts the unscaled input by b/s; the Mul goes.
    shift_name = graph.add_constant(
        f"{add.output[0]}_shift_folded_{len(graph.initializers)}", (b / s).reshape(1, -1, 1, 1)
    )
    add.input[0], add.input[1] = source, shift_name
    graph.bypass(mul, source)
    report.scale_only += 1
    return True


def fold_affine_into_conv(model: onnx.ModelProto) -> FoldReport:
    """Rewrite ``model`` in place; returns how many Mul/Add pairs were merged."""
    graph = _Graph(model)
    report = FoldReport()
    changed = True
    while changed:
        changed = False
        for node in list(graph.graph.node):
            if _key(node) in graph.removed:
                continue
            folded = (node.op_type == "Conv" and _fold_after_conv(graph, node, report)) or (
                node.op_type == "Mul" and _fold_before_conv(graph, node, report)
            )
            changed = changed or folded
    graph.finish()
    return report
