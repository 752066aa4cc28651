"""Devices, distribution and precision: turn a RuntimeConfig into a scope to build models in.

TensorFlow backend: tf.distribute strategies (OneDevice, Mirrored, MultiWorkerMirrored from
TF_CONFIG, TPU). JAX backend: keras.distribution.DataParallel over the visible devices.
TensorFlow is imported only here and only on the TensorFlow backend, so the JAX path runs
where TensorFlow is not installed.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from convsuite.common.config import RuntimeConfig
from convsuite.common.errors import ConvsuiteError


def select_backend(backend: str) -> None:
    """Set KERAS_BACKEND before Keras is first imported (the CLI calls this first)."""
    import sys

    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise ConvsuiteError(
                f"runtime.backend={backend} but Keras is already running on {keras.backend.backend()}; "
                f"start a new process with KERAS_BACKEND={backend}"
            )
        return
    os.environ["KERAS_BACKEND"] = backend


@dataclass
class Runtime:
    """What the trainer needs from the runtime: a scope, the replica count, XLA on or off."""

    config: RuntimeConfig
    backend: str
    strategy: Any = None  # a tf.distribute.Strategy on TensorFlow, else None
    distribution: Any = None  # a keras.distribution.Distribution on JAX, else None
    jit_compile: bool = False
    device_kind: str = "cpu"
    details: dict = field(default_factory=dict)

    def scope(self):
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    @property
    def num_replicas(self) -> int:
        if self.strategy is not None:
            return int(self.strategy.num_replicas_in_sync)
        if self.distribution is not None:
            return len(self.distribution.device_mesh.devices.flatten())
        return 1

    @property
    def is_multiworker(self) -> bool:
        return self.config.strategy == "multiworker"


def _tf_strategy(config: RuntimeConfig):
    import tensorflow as tf

    if config.num_cpu_devices > 0:
        cpus = tf.config.list_physical_devices("CPU")
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * config.num_cpu_devices
            )
        except RuntimeError:
            pass  # already initialised in this process with the same split
    name = config.strategy
    if name == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ConvsuiteError(
                "runtime.strategy=multiworker needs the TF_CONFIG environment variable describing the cluster "
                "(see TensorFlow's distributed training guide on TF_CONFIG)"
            )
        # Before anything initialises TF's context (list_logical_devices does): the strategy must
        # configure collective ops first, else "Collective ops must be configured at program startup".
        gpus = tf.config.list_physical_devices("GPU")
        return tf.distribute.MultiWorkerMirroredStrategy(), ("gpu" if gpus else "cpu")
    gpus = tf.config.list_logical_devices("GPU")
    if name == "auto":
        return (tf.distribute.MirroredStrategy() if len(gpus) > 1 else None), ("gpu" if gpus else "cpu")
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0"), "cpu"
    if name == "gpu":
        if not gpus:
            raise ConvsuiteError("runtime.strategy=gpu but TensorFlow sees no GPU; use runtime.strategy=auto or cpu")
        return tf.distribute.OneDeviceStrategy("/gpu:0"), "gpu"
    if name == "mirrored":
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices), ("gpu" if gpus else "cpu")
    if name == "tpu":
        try:
            resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
            tf.config.experimental_connect_to_cluster(resolver)
            tf.tpu.experimental.initialize_tpu_system(resolver)
        except (ValueError, RuntimeError) as error:
            raise ConvsuiteError(f"runtime.strategy=tpu but no TPU was found ({error}); use runtime.strategy=auto") from None
        return tf.distribute.TPUStrategy(resolver), "tpu"
    raise ConvsuiteError(f"unknown runtime.strategy {name!r}")


def _jax_distribution(config: RuntimeConfig):
    import jax
    import keras

    name = config.strategy
    if name == "multiworker":
        keras.distribution.initialize()
    devices = jax.devices()
    kind = devices[0].platform
    if name == "tpu" and kind != "tpu":
        raise ConvsuiteError("runtime.strategy=tpu but JAX sees no TPU; use runtime.strategy=auto")
    if name == "gpu" and kind != "gpu":
        raise ConvsuiteError("runtime.strategy=gpu but JAX sees no GPU; use runtime.strategy=auto or cpu")
    if name == "cpu":
        return None, "cpu"
    if len(devices) > 1 or name in ("mirrored", "multiworker"):
        distribution = keras.distribution.DataParallel(devices=devices)
        keras.distribution.set_distribution(distribution)
        return distribution, kind
    return None, kind


def configure(config: RuntimeConfig) -> Runtime:
    """Apply precision and device settings; return the Runtime the trainer builds models under."""
    import keras

    backend = keras.backend.backend()
    if backend != config.backend:
        raise ConvsuiteError(
            f"runtime.backend={config.backend} but Keras runs on {backend}; "
            f"set KERAS_BACKEND={config.backend} (the convsuite CLI does this from the config)"
        )
    keras.mixed_precision.set_global_policy(config.precision)
    runtime = Runtime(config=config, backend=backend)
    if backend == "tensorflow":
        runtime.strategy, runtime.device_kind = _tf_strategy(config)
    elif backend == "jax":
        runtime.distribution, runtime.device_kind = _jax_distribution(config)
    if config.jit_compile == "auto":
        # TensorFlow on CPU: oneDNN without XLA is ~2x faster (measured here); on GPU/TPU XLA
        # wins. JAX always compiles: without jit it runs op by op (LeNet-5 ~3x slower on CPU).
        runtime.jit_compile = backend == "jax" or runtime.device_kind != "cpu"
    else:
        runtime.jit_compile = config.jit_compile == "true"
    if runtime.strategy is not None and config.strategy == "multiworker":
        runtime.jit_compile = False
    return runtime
