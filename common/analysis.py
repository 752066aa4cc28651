"""Look inside a CNN: per-layer shapes, receptive fields and parameters; saliency and Grad-CAM.

The receptive-field arithmetic treats each layer, per spatial axis, as a map from output
units to input units with an effective kernel ``K_eff = d*(K-1)+1``, a stride ``S`` and a
left padding ``P``:

    out      = floor((W - K_eff + P_total) / S) + 1      (P_total = 2P when symmetric)
    RF_out   = RF_in + (K_eff - 1) * jump_in
    jump_out = jump_in * S
    start_out = start_in + ((K_eff - 1) / 2 - P) * jump_in

``jump`` is the distance between adjacent output units in input pixels (the effective
stride) and ``start`` the input coordinate of the first unit's receptive-field centre
(input pixel centres are 0, 1, 2, ...). Layers that see the whole input (Flatten, global
pooling, the Dense layers after them) report the input's size.

Explanations follow Simonyan, Vedaldi & Zisserman 2014 (saliency: |d score / d input|) and
Selvaraju et al. 2017 (Grad-CAM). Both differentiate the class score *before* a final
softmax, as the papers do. Gradients use the running backend: ``tf.GradientTape`` on
TensorFlow, ``jax.vjp`` over ``model.stateless_call`` on JAX, autograd on PyTorch;
TensorFlow and JAX are imported lazily so neither is needed by the other path.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Sequence

import keras
import numpy as np

from convsuite.common.errors import ConvsuiteError

__all__ = ["LayerRow", "layer_table", "format_table", "receptive_field", "output_size",
           "saliency", "grad_cam"]

@dataclass(frozen=True)
class LayerRow:
    """One layer call of the model graph; spatial quantities are tuples, one entry per axis.

    ``kernel``/``stride``/``dilation`` are None for layers that keep the geometry (batch
    norm, activations, ...) or that see the whole input (``spatial`` is then False and
    ``receptive_field`` is the input size).
    """

    name: str
    kind: str
    output_shape: tuple
    kernel: tuple | None
    stride: tuple | None
    dilation: tuple | None
    receptive_field: tuple
    jump: tuple
    start: tuple
    params: int
    spatial: bool = True


@dataclass(frozen=True)
class _Geometry:
    """Where a tensor's units sit in input coordinates (per spatial axis)."""

    rf: tuple
    jump: tuple
    start: tuple
    size: tuple  # the tensor's own length per axis (None where unknown)
    extent: tuple  # the model input's size: what "whole input" means downstream
    spatial: bool = True


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((W - K_eff + 2P) / S) + 1: the length of a conv or pooling output along one axis."""
    k_eff = dilation * (kernel - 1) + 1
    return (size - k_eff + 2 * padding) // stride + 1


def _num(value):
    """Keep integral values as ints so tables print 196, not 196.0."""
    if value is None:
        return None
    value = float(value)
    return int(value) if value.is_integer() else value


def _per_axis(value, n: int) -> tuple | None:
    """Broadcast a Keras int-or-tuple attribute to one entry per spatial axis."""
    if value is None:
        return None
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(value)
    if len(value) == n:
        return value
    if len(value) == 1:
        return value * n
    return None


def _data_format(layer) -> str:
    fmt = getattr(layer, "data_format", None)
    return fmt if fmt in ("channels_last", "channels_first") else keras.config.image_data_format()


def _spatial_sizes(shape, data_format: str) -> tuple:
    shape = tuple(shape)
    if len(shape) < 3:
        return ()
    return shape[2:] if data_format == "channels_first" else shape[1:-1]


def _padding(padding, sizes, out_sizes, k_eff, strides) -> tuple[tuple, tuple]:
    """(left, total) padding per axis, following Keras' conventions for 'same' and 'causal'.

    Without a usable ``padding`` attribute (custom blocks) it is inferred from the sizes.
    """
    n = len(k_eff)
    if isinstance(padding, str) and padding.lower() in ("valid", "causal", "same"):
        padding = padding.lower()
        if padding == "valid":
            return (0,) * n, (0,) * n
        if padding == "causal":
            return tuple(k - 1 for k in k_eff), tuple(k - 1 for k in k_eff)
        total = tuple(max(k - s, 0) if w is None else max((math.ceil(w / s) - 1) * s + k - w, 0)
                      for w, k, s in zip(sizes, k_eff, strides))
        return tuple(t // 2 for t in total), total  # Keras/TF put the odd pixel on the right
    if isinstance(padding, (int, np.integer)):
        return (int(padding),) * n, (2 * int(padding),) * n
    if isinstance(padding, (tuple, list)) and len(padding) == n:
        pairs = [tuple(p) if isinstance(p, (tuple, list)) else (int(p), int(p)) for p in padding]
        return tuple(p[0] for p in pairs), tuple(p[0] + p[1] for p in pairs)
    total = tuple(0 if w is None or wo is None else max((wo - 1) * s + k - w, 0)
                  for w, wo, k, s in zip(sizes, out_sizes, k_eff, strides))
    return tuple(t // 2 for t in total), total


def _step(g: _Geometry, k_eff, strides, offset, size) -> _Geometry:
    """Compose one per-axis (kernel, stride, offset) map onto the incoming geometry."""
    return _Geometry(
        rf=tuple(_num(r + (k - 1) * j) for r, k, j in zip(g.rf, k_eff, g.jump)),
        jump=tuple(_num(j * s) for j, s in zip(g.jump, strides)),
        start=tuple(_num(st + o * j) for st, o, j in zip(g.start, offset, g.jump)),
        size=tuple(size),
        extent=g.extent,
    )


def _whole_input(g: _Geometry) -> _Geometry:
    centre = tuple(None if e is None else _num((e - 1) / 2) for e in g.extent)
    return _Geometry(rf=g.extent, jump=g.extent, start=centre, size=(), extent=g.extent, spatial=False)


def _largest(values):
    return max(values, key=lambda v: -1 if v is None else v)


def _merge(states: list[_Geometry]) -> _Geometry:
    """Branches meet: the largest receptive field and the finest jump win (per axis)."""
    if len(states) == 1:
        return states[0]
    n = len(states[0].rf)
    if any(len(s.rf) != n for s in states) or not all(s.spatial for s in states):
        return _whole_input(max(states, key=lambda s: len(s.extent)))
    rf, jump, start = [], [], []
    for a in range(n):
        widest = max(states, key=lambda s: -1 if s.rf[a] is None else s.rf[a])
        rf.append(widest.rf[a])
        start.append(widest.start[a])
        jump.append(min(s.jump[a] for s in states))
    size = tuple(_largest(s.size[a] for s in states) for a in range(n))
    extent = tuple(_largest(s.extent[a] for s in states) for a in range(n))
    return _Geometry(tuple(rf), tuple(jump), tuple(start), size, extent)


def _graph(model) -> keras.Model:
    """The functional graph behind a Sequential or functional model."""
    if isinstance(model, keras.Sequential):
        graph = getattr(model, "_functional", None)
        if graph is None:
            raise ConvsuiteError(
                f"Sequential model '{model.name}' has no input shape yet; start it with "
                "keras.Input(shape) or call model.build((None, ...)) before analysing it."
            )
        return graph
    if hasattr(model, "_nodes_by_depth"):
        return model
    raise ConvsuiteError(
        f"model '{model.name}' is a subclassed keras.Model with no layer graph; wrap it in a "
        "functional model (x = keras.Input(shape); keras.Model(x, model(x))) to analyse it."
    )


def _geometry_of_layer(layer, g: _Geometry, in_shape, out_shape):
    """Return (new geometry, kernel, stride, dilation) for one layer call."""
    n = len(g.rf)
    fmt = _data_format(layer)
    kind = type(layer).__name__
    sizes = _spatial_sizes(in_shape, fmt)
    keras_out = _spatial_sizes(out_shape, fmt)
    if not g.spatial or len(sizes) != n or len(out_shape) < len(in_shape) or kind == "Flatten" or (
        kind.startswith("Global")
    ):
        return _whole_input(g), None, None, None
    # Keras leaves sizes None when the input shape is dynamic; the walk may know them.
    sizes = tuple(s if s is not None else t for s, t in zip(sizes, g.size))
    known_out = len(keras_out) == n and None not in keras_out
    out_sizes = keras_out if len(keras_out) == n else (None,) * n
    ones = (1,) * n

    def sized(computed):
        return keras_out if known_out else tuple(computed)

    # Blocks that know their own receptive field (a nested model may, too).
    own_rf = getattr(layer, "receptive_field", None)
    if isinstance(own_rf, (int, np.integer, tuple, list)) and _per_axis(own_rf, n):
        k = _per_axis(own_rf, n)
        s = _per_axis(getattr(layer, "strides", None), n) or tuple(
            1 if w is None or wo is None or wo >= w else max(round(w / wo), 1)
            for w, wo in zip(sizes, out_sizes))
        left, _ = _padding(getattr(layer, "padding", None), sizes, out_sizes, k, s)
        offset = tuple((kk - 1) / 2 - p for kk, p in zip(k, left))
        return _step(g, k, s, offset, out_sizes), k, s, None

    if isinstance(layer, keras.Model):
        last = _walk(layer, sizes, g.extent)[-1]
        if not last.spatial:
            return _whole_input(g), None, None, None
        size = sized((None,) * n)
        return (_step(g, last.receptive_field, last.jump, last.start, size),
                last.receptive_field, last.jump, None)

    if kind.startswith("ZeroPadding") or kind.startswith("Cropping"):
        grow = kind.startswith("Zero")
        amount = getattr(layer, "padding" if grow else "cropping", None)
        if n == 1 and isinstance(amount, tuple) and len(amount) == 2 and not isinstance(amount[0], tuple):
            amount = (amount,)
        left, total = _padding(tuple(amount), sizes, out_sizes, ones, ones)
        sign = 1 if grow else -1
        size = sized(None if w is None else w + sign * t for w, t in zip(sizes, total))
        return _step(g, ones, ones, tuple(-sign * p for p in left), size), None, None, None

    if kind.startswith("UpSampling"):
        factor = _per_axis(getattr(layer, "size", 1), n) or ones
        size = sized(None if w is None else w * f for w, f in zip(sizes, factor))
        return _step(g, ones, tuple(1 / f for f in factor), (0,) * n, size), None, None, None

    kernel = getattr(layer, "kernel_size", None)
    if kernel is None:
        kernel = getattr(layer, "pool_size", None)
    kernel = _per_axis(kernel, n)
    if kernel is not None:
        strides = _per_axis(getattr(layer, "strides", None), n) or ones
        dilation = _per_axis(getattr(layer, "dilation_rate", None), n)  # None for pooling
        k_eff = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation or ones))
        if kind.endswith("Transpose"):
            # Upsampling conv: each output sees ceil(K_eff/S) inputs; a close approximation.
            crop, _ = _padding(getattr(layer, "padding", "valid"), sizes, sizes,
                               tuple(max(k - s + 1, 1) for k, s in zip(k_eff, strides)), ones)
            span = tuple(math.ceil(k / s) for k, s in zip(k_eff, strides))
            offset = tuple((c - (k - 1) / 2) / s for c, k, s in zip(crop, k_eff, strides))
            return (_step(g, span, tuple(1 / s for s in strides), offset, out_sizes),
                    kernel, strides, dilation)
        left, total = _padding(getattr(layer, "padding", None), sizes, out_sizes, k_eff, strides)
        size = sized(None if w is None else (w + t - k) // s + 1
                     for w, t, k, s in zip(sizes, total, k_eff, strides))
        offset = tuple((k - 1) / 2 - p for k, p in zip(k_eff, left))
        return _step(g, k_eff, strides, offset, size), kernel, strides, dilation

    if known_out and None not in sizes and sizes != keras_out:
        # An unknown resizing layer: keep the receptive field, rescale the unit spacing.
        ratio = tuple(w / wo for w, wo in zip(sizes, keras_out))
        return _step(g, ones, ratio, (0,) * n, keras_out), None, None, None
    if len(out_shape) != len(in_shape):
        return _whole_input(g), None, None, None
    return _Geometry(g.rf, g.jump, g.start, sized(sizes), g.extent), None, None, None


def _params(layer) -> int:
    try:
        return int(layer.count_params())
    except ValueError:  # an unbuilt layer holds no weights yet
        return 0


def _walk(model, input_sizes=None, extent=None) -> list[LayerRow]:
    graph = _graph(model)
    order = {id(op): i for i, op in enumerate(graph._operations)}
    nodes = [node for depth in sorted(graph._nodes_by_depth, reverse=True)
             for node in sorted(graph._nodes_by_depth[depth], key=lambda nd: order.get(id(nd.operation), 0))]
    states: dict[int, _Geometry] = {}
    rows: list[LayerRow] = []
    for node in nodes:
        layer = node.operation
        outputs = node.output_tensors
        out_shape = tuple(outputs[0].shape)
        known = [states[id(t)] for t in node.input_tensors if id(t) in states]
        if not known:  # an input layer, or a model whose inputs are intermediate tensors
            tensor = outputs[0] if node.is_input or not node.input_tensors else node.input_tensors[0]
            sizes = tuple(_spatial_sizes(tensor.shape, keras.config.image_data_format()))
            n = len(sizes)
            if input_sizes is not None and len(input_sizes) == n:  # a nested model: outer sizes
                sizes = tuple(s if s is not None else o for s, o in zip(sizes, input_sizes))
            known = [_Geometry(rf=(1,) * n, jump=(1,) * n, start=(0,) * n, size=sizes,
                               extent=extent if extent is not None and len(extent) == n else sizes,
                               spatial=n > 0)]
        g_in = _merge(known)
        if node.is_input or not node.input_tensors:
            g, kernel, stride, dilation = g_in, None, None, None
        else:
            in_shape = tuple(node.input_tensors[0].shape)
            g, kernel, stride, dilation = _geometry_of_layer(layer, g_in, in_shape, out_shape)
        for t in outputs:
            states[id(t)] = g
        rows.append(LayerRow(
            name=layer.name, kind=type(layer).__name__, output_shape=out_shape,
            kernel=kernel, stride=stride, dilation=dilation,
            receptive_field=g.rf, jump=g.jump, start=g.start,
            params=_params(layer), spatial=g.spatial,
        ))
    return rows


def layer_table(model) -> list[LayerRow]:
    """Per-layer output shape, kernel, stride, receptive field, jump, start and parameters.

    Walks the model's graph in topological order, so branches and merges (residual adds,
    concatenations) are handled: a merge takes the largest receptive field of its inputs.
    Nested models are walked too and enter as one row with their overall geometry.
    Transposed convolutions, upsampling and unknown resizing layers are approximations
    (their output units do not all see the same number of inputs).
    """
    return _walk(model)


def receptive_field(model) -> tuple:
    """Receptive field (per spatial axis) of the last layer that still has spatial units."""
    for row in reversed(layer_table(model)):
        if row.spatial and row.receptive_field:
            return row.receptive_field
    raise ConvsuiteError(
        f"model '{model.name}' has no spatial layer (its input has no spatial axes), so it "
        "has no receptive field; give it an image-, sequence- or volume-shaped input."
    )


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        if not value:
            return "-"
        if all(v == value[0] for v in value):
            return _fmt(value[0])
        return "x".join(_fmt(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def format_table(rows: Sequence[LayerRow]) -> str:
    """An aligned text table (one line per layer call) with total parameters at the bottom."""
    header = ("layer", "kind", "output", "kernel", "stride", "dilation", "RF", "jump", "start", "params")
    body = []
    for r in rows:
        shape = "x".join("?" if d is None else str(d) for d in r.output_shape[1:])
        body.append((r.name, r.kind, shape, _fmt(r.kernel), _fmt(r.stride), _fmt(r.dilation),
                     _fmt(r.receptive_field), _fmt(r.jump), _fmt(r.start), f"{r.params:,}"))
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
    numeric = set(range(3, len(header)))

    def line(cells):
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    seen, total = set(), 0
    for r in rows:  # shared layers appear once per call but hold their weights once
        if r.name not in seen:
            seen.add(r.name)
            total += r.params
    rule = "-" * len(line(header))
    return "\n".join([line(header), rule, *(line(b) for b in body), rule, f"Total params: {total:,}"])


# --------------------------------------------------------------------------- explanations


def _single_io(model):
    try:
        inputs, outputs = model.inputs, model.outputs
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ConvsuiteError(
            f"model '{model.name}' has no defined input yet; build it with keras.Input(shape) "
            "before computing explanations."
        )
    if len(inputs) != 1 or len(outputs) != 1:
        raise ConvsuiteError(
            f"model '{model.name}' has {len(inputs)} inputs and {len(outputs)} outputs; "
            "saliency and Grad-CAM need a single-input, single-output classifier."
        )
    return inputs[0], outputs[0]


def _check_images(model, images) -> np.ndarray:
    model_input, _ = _single_io(model)
    expected = tuple(model_input.shape)
    images = np.asarray(images, dtype="float32")
    if images.ndim != len(expected) or any(
        e is not None and e != a for e, a in zip(expected[1:], images.shape[1:])
    ):
        example = ", ".join(["n"] + ["?" if e is None else str(e) for e in expected[1:]])
        raise ConvsuiteError(
            f"images shape {images.shape} does not match the model's input {expected}; "
            f"pass a batch shaped ({example}) (add a batch axis with images[None] for one image)."
        )
    return images


@contextlib.contextmanager
def _scores_before_softmax(model):
    """Yield a model whose output is the pre-softmax class score (as in both papers)."""
    _, output = _single_io(model)
    layer, node_index, _ = output._keras_history
    softmax = keras.activations.softmax
    if isinstance(layer, keras.layers.Softmax) or (
        isinstance(layer, keras.layers.Activation) and layer.activation is softmax
    ):
        node = layer._inbound_nodes[node_index]
        yield keras.Model(model.inputs[0], node.input_tensors[0])
    elif getattr(layer, "activation", None) is softmax:
        layer.activation = keras.activations.linear
        try:
            yield model
        finally:
            layer.activation = softmax
    else:
        yield model


def _one_hot(scores: np.ndarray, class_index) -> np.ndarray:
    if scores.ndim != 2:
        raise ConvsuiteError(
            f"the model's output has shape {scores.shape}; saliency and Grad-CAM need "
            "class scores shaped (batch, classes)."
        )
    batch, classes = scores.shape
    if class_index is None:
        index = scores.argmax(axis=1)
    else:
        try:
            index = np.broadcast_to(np.asarray(class_index, dtype=int), (batch,))
        except ValueError:
            raise ConvsuiteError(
                f"class_index has shape {np.shape(class_index)} but there are {batch} images; "
                "pass one int, one int per image, or None for the predicted class."
            ) from None
        if index.min() < 0 or index.max() >= classes:
            raise ConvsuiteError(
                f"class_index {class_index} is outside the model's {classes} classes; "
                f"use 0..{classes - 1} or None for the predicted class."
            )
    hot = np.zeros((batch, classes), dtype="float32")
    hot[np.arange(batch), index] = 1.0
    return hot


def _score_gradient(model, x: np.ndarray, class_index) -> np.ndarray:
    """d score_c / d x for each example, on whichever backend Keras runs."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            scores = model(x, training=False)
            hot = tf.constant(_one_hot(np.asarray(scores), class_index), dtype=scores.dtype)
            total = tf.reduce_sum(scores * hot)
        return tape.gradient(total, x).numpy()
    if backend == "jax":
        import jax
        import jax.numpy as jnp

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]

        def forward(inputs):
            return model.stateless_call(trainable, frozen, inputs, training=False)[0]

        scores, pullback = jax.vjp(forward, jnp.asarray(x))
        hot = _one_hot(np.asarray(scores), class_index)
        return np.asarray(pullback(jnp.asarray(hot, dtype=scores.dtype))[0])
    if backend == "torch":
        import torch

        x = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        scores = model(x, training=False)
        hot = _one_hot(scores.detach().cpu().numpy(), class_index)
        (scores * torch.as_tensor(hot, device=scores.device)).sum().backward()
        return x.grad.detach().cpu().numpy()
    raise ConvsuiteError(
        f"gradients are not implemented for the '{backend}' Keras backend; "
        "set KERAS_BACKEND to tensorflow, jax or torch."
    )


def saliency(model, images, class_index=None) -> np.ndarray:
    """Simonyan et al. 2014 saliency: max over channels of |d score_c / d image|.

    Returns (batch, H, W). ``class_index`` None explains each example's predicted class;
    an int or one int per example explains those classes.
    """
    x = _check_images(model, images)
    with _scores_before_softmax(model) as scorer:
        grad = _score_gradient(scorer, x, class_index)
    channel_axis = 1 if keras.config.image_data_format() == "channels_first" else -1
    return np.abs(grad).max(axis=channel_axis)


def _output_in(model, layer):
    """The layer's output tensor in this model's graph (a layer may have been called elsewhere)."""
    graph = _graph(model)
    for nodes in graph._nodes_by_depth.values():
        for node in nodes:
            if node.operation is layer:
                return node.output_tensors[0]
    return layer.output


def _feature_layer(model, layer_name):
    if layer_name is not None:
        try:
            layer = model.get_layer(layer_name)
        except ValueError:
            raise ConvsuiteError(
                f"model '{model.name}' has no layer named '{layer_name}'; pass one of its "
                "convolutional layers' names or None for the last one."
            ) from None
        shape = tuple(_output_in(model, layer).shape)
        if len(shape) != 4:
            raise ConvsuiteError(
                f"layer '{layer_name}' outputs shape {shape}, not a 4-D feature "
                "map; Grad-CAM needs a layer with (batch, height, width, channels) output."
            )
        return layer
    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if len(_output_in(model, layer).shape) == 4:
            return layer
    raise ConvsuiteError(
        f"model '{model.name}' has no layer with a 4-D (batch, height, width, channels) output; "
        "Grad-CAM needs a 2-D convolutional feature map, use saliency() instead."
    )


def grad_cam(model, images, layer_name=None, class_index=None) -> np.ndarray:
    """Selvaraju et al. 2017 Grad-CAM, upsampled to the images' size and scaled to [0, 1].

    Weights each channel of ``layer_name``'s feature map (default: the last layer with a
    4-D output) by its spatially averaged score gradient, sums, applies ReLU, resizes
    bilinearly to (H, W) and divides each map by its maximum. Returns (batch, H, W).
    """
    x = _check_images(model, images)
    layer = _feature_layer(model, layer_name)
    fmt = _data_format(layer)
    channels_first = fmt == "channels_first"
    height, width = x.shape[2:4] if channels_first else x.shape[1:3]
    with _scores_before_softmax(model) as scorer:
        feature_tensor = _output_in(model, layer)
        body = keras.Model(model.inputs[0], feature_tensor)
        try:
            head = keras.Model(feature_tensor, scorer.outputs[0])
        except ValueError:
            raise ConvsuiteError(
                f"layer '{layer.name}' is bypassed by a skip connection, so the score is not a "
                "function of its output alone; pick a layer every path passes through "
                "(e.g. the block's final add or activation)."
            ) from None
        features = keras.ops.convert_to_numpy(body(x, training=False))
        if class_index is None:  # predicted by the whole model, not by the head's view of it
            class_index = keras.ops.convert_to_numpy(scorer(x, training=False)).argmax(axis=1)
        grad = _score_gradient(head, features, class_index)
    spatial_axes = (2, 3) if channels_first else (1, 2)
    channel_axis = 1 if channels_first else 3
    weights = grad.mean(axis=spatial_axes, keepdims=True)
    cam = np.maximum((weights * features).sum(axis=channel_axis), 0.0)
    cam = keras.ops.image.resize(cam[..., None], (height, width), interpolation="bilinear",
                                 data_format="channels_last")
    cam = keras.ops.convert_to_numpy(cam)[..., 0].astype("float32")
    peak = cam.max(axis=(1, 2), keepdims=True)
    return np.clip(np.divide(cam, peak, out=np.zeros_like(cam), where=peak > 0), 0.0, 1.0)
