"""The JAX path (the GPU machine's) must train, checkpoint and evaluate with TensorFlow absent."""

import json
import os
import subprocess
import sys
import textwrap

BLOCK_TENSORFLOW = textwrap.dedent("""
    import sys

    class NoTensorFlow:
        # Behave as if TensorFlow were not installed: its import fails, find_spec finds nothing.
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("tensorflow", "tensorflow_datasets", "tensorboard"):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, NoTensorFlow())
    from convsuite.common.cli import main
    try:
        main(sys.argv[1:])
    finally:
        assert "tensorflow" not in sys.modules
""")


def convsuite_without_tensorflow(*args):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    return subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW, *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_train_resume_and_evaluate_on_jax_without_tensorflow(tmp_path):
    run_dir = tmp_path / "jax-run"
    args = ["--set", "data.train_subset=400", "--set", "data.test_subset=200", "--set", "trainer.progress=false",
            "--set", f"trainer.run_dir={run_dir}", "--set", "trainer.batch_size=50", "--json"]
    first = convsuite_without_tensorflow("train", "image", "--set", "trainer.epochs=1", *args)
    assert first.returncode == 0, first.stderr[-3000:]
    second = convsuite_without_tensorflow("train", "image", "--set", "trainer.epochs=2", *args)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Resuming" in second.stderr  # progress goes to stderr with --json
    metrics = json.loads(second.stdout.strip())
    assert metrics["backend"] == "jax" and metrics["epochs"] == 2 and metrics["test_accuracy"] > 0.2
    evaluated = convsuite_without_tensorflow("evaluate", "image", "--checkpoint", str(run_dir), "--json")
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert json.loads(evaluated.stdout)["test_accuracy"] == metrics["test_accuracy"]


def test_jax_data_parallel_over_two_host_devices(tmp_path):
    """runtime.strategy=mirrored on JAX shards each batch over the devices (keras.distribution.DataParallel)."""
    env_flags = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    args = ["train", "image", "--set", "data.train_subset=400", "--set", "data.test_subset=200",
            "--set", "trainer.epochs=1", "--set", "trainer.batch_size=50", "--set", "trainer.progress=false",
            "--set", "runtime.strategy=mirrored", "--set", f"trainer.run_dir={tmp_path / 'dp'}", "--json"]
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", **env_flags}
    result = subprocess.run([sys.executable, "-c", BLOCK_TENSORFLOW, *args], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads(result.stdout.strip())
    assert metrics["replicas"] == 2 and metrics["backend"] == "jax" and metrics["test_accuracy"] > 0.2
