"""The drug suite's Keras models: 3-D CNNs that score a ligand posed in a binding site.

Papers:
  Wallach, Dzamba & Heifets, "AtomNet: A Deep Convolutional Neural Network for Bioactivity Prediction
  in Structure-based Drug Discovery", arXiv:1510.02855 (2015): a 20 Å cube at 1 Å resolution, four
  3-D convolutions (128x5^3, 256x3^3, 256x3^3, 256x3^3) with ReLU, two fully connected layers of 1024
  units and a logistic-regression output over active / inactive. The paper does not say how the
  convolutions treat the cube's border; here they are unpadded ("valid").
  Ragoza, Hochuli, Idrobo, Sunseri & Koes, "Protein-Ligand Scoring with Convolutional Neural
  Networks", J. Chem. Inf. Model. 57 (2017), gnina's default2017 model: a 24 Å cube at 0.5 Å, three
  blocks of 2x2x2 max pooling and a 3x3x3 convolution with ReLU (32, 64, 128 filters, padded), then
  one fully connected output.

Deviation, both: one sigmoid unit ("probability of active") instead of a two-class softmax, the same
model written with one logit. Inputs are grids ``(batch, depth, height, width, channels)`` from
``convsuite.suites.drug.voxel`` (float16 or float32; the model casts to its own dtype). The output
stays float32 under mixed precision.
"""

from __future__ import annotations

import keras
from keras import layers

from convsuite.common.blocks import ConvBNAct
from convsuite.common.errors import ConvsuiteError


def _output(x) -> "keras.KerasTensor":
    return layers.Dense(1, activation="sigmoid", dtype="float32", name="active")(x)


def atomnet(input_shape: tuple, filters=(128, 256, 256, 256), kernels=(5, 3, 3, 3), dense_units=(1024, 1024),
            pool_first: bool = False, dropout: float = 0.0, batch_norm: bool = False) -> keras.Model:
    """AtomNet (Wallach, Dzamba & Heifets 2015): unpadded 3-D convolutions, dense layers, a logistic output.

    ``pool_first`` adds a 2x max pooling after the first convolution (not in the paper): with a quarter of
    the filters it makes a variant a CPU trains in minutes."""
    inputs = keras.Input(shape=input_shape, name="grid")
    x = inputs
    for i, (count, kernel) in enumerate(zip(filters, kernels)):
        x = ConvBNAct(count, kernel, rank=3, padding="valid", use_batch_norm=batch_norm, name=f"conv{i + 1}")(x)
        if i == 0 and pool_first:
            x = layers.MaxPooling3D(2, name="pool1")(x)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(dense_units):
        if dropout:
            x = layers.Dropout(dropout, name=f"dropout{i + 1}")(x)
        x = layers.Dense(units, activation="relu", name=f"dense{i + 1}")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_out")(x)
    return keras.Model(inputs, _output(x), name="atomnet")


def default2017(input_shape: tuple, filters=(32, 64, 128), kernels=(3, 3, 3), dropout: float = 0.0,
                batch_norm: bool = False) -> keras.Model:
    """gnina's default2017 (Ragoza et al. 2017): (max pool 2 -> padded 3x3x3 conv + ReLU) x 3, a dense output."""
    inputs = keras.Input(shape=input_shape, name="grid")
    x = inputs
    for i, (count, kernel) in enumerate(zip(filters, kernels)):
        x = layers.MaxPooling3D(2, name=f"pool{i + 1}")(x)
        x = ConvBNAct(count, kernel, rank=3, padding="same", use_batch_norm=batch_norm, name=f"conv{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_out")(x)
    return keras.Model(inputs, _output(x), name="default2017")


MODELS = {"atomnet": atomnet, "default2017": default2017}


def grid_shape(experiment) -> tuple[int, int, int, int]:
    """(D, D, D, channels) of the experiment's grids."""
    from convsuite.suites.drug.voxel import GridSpec

    spec = GridSpec(experiment.data.grid_size, experiment.data.resolution)
    return (spec.dim, spec.dim, spec.dim, spec.num_channels)


def build_model(experiment, input_shape: tuple | None = None) -> keras.Model:
    """The experiment's network for grids of ``input_shape`` (default: the experiment's grid)."""
    m = experiment.model
    shape = tuple(int(s) for s in (input_shape or grid_shape(experiment)))
    if m.name == "atomnet":
        return atomnet(shape, m.filters, m.kernels, m.dense_units, m.pool_first, m.dropout, m.batch_norm)
    if m.name == "default2017":
        return default2017(shape, m.filters, m.kernels, m.dropout, m.batch_norm)
    raise ConvsuiteError(f"unknown drug architecture {m.name!r}; one of {', '.join(MODELS)}")
