"""One training process for test_distribute.py, run as a subprocess.

A subprocess because TensorFlow fixes its logical CPU devices and reads TF_CONFIG when it
first initialises, so each strategy needs a fresh interpreter.

    python _distributed_worker.py STRATEGY NUM_CPU_DEVICES N_TRAIN RUN_DIR OUT_PREFIX [EPOCHS [resume]]

Without ``resume`` the run starts over (resume=False).

Writes OUT_PREFIX.json (the metrics train() returned, plus the per-epoch training loss),
OUT_PREFIX.npz (this process's final weights, from the model object it trained) and, in
the process that wrote the run directory, OUT_PREFIX.saved.npz (the weights in model.keras).
"""

import json
import sys
from pathlib import Path

import numpy as np

EPOCHS = 2
BATCH = 64


def tiny_data(n_train: int, n_test: int = 200):
    """sklearn's 8x8 digits (ships with scikit-learn): real, learnable, tiny."""
    from sklearn.datasets import load_digits

    from convsuite.common.trainer import SupervisedData

    digits = load_digits()
    x = (digits.images[..., None] / 16.0).astype("float32")
    y = digits.target.astype("int64")
    empty_x, empty_y = x[:0], y[:0]
    return SupervisedData(x[:n_train], y[:n_train], empty_x, empty_y,
                          x[-n_test:], y[-n_test:])


def main():
    strategy, num_cpu, n_train, run_dir, out_prefix = sys.argv[1:6]
    epochs = int(sys.argv[6]) if len(sys.argv) > 6 else EPOCHS
    resume = len(sys.argv) > 7 and sys.argv[7] == "resume"
    import keras

    from convsuite.common.config import Experiment
    from convsuite.common.trainer import train

    experiment = Experiment(name="distribute-test", suite="test")
    experiment.trainer.epochs = epochs
    experiment.trainer.batch_size = BATCH
    experiment.trainer.learning_rate = 3e-3
    experiment.trainer.seed = 3
    experiment.trainer.run_dir = run_dir
    experiment.trainer.progress = False
    experiment.runtime.strategy = strategy
    experiment.runtime.num_cpu_devices = int(num_cpu)

    built = []

    def build_model():
        # No BatchNormalization and no dropout: replicas then compute exactly what one device does.
        model = keras.Sequential([
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])
        built.append(model)
        return model

    metrics = train(experiment, build_model, tiny_data(int(n_train)), resume=resume)
    if "train_loss_per_epoch" not in metrics:  # the fit path logs the loss to log.csv
        rows = (Path(run_dir) / "log.csv").read_text().splitlines()
        header = rows[0].split(",")
        metrics["train_loss_per_epoch"] = [float(r.split(",")[header.index("loss")]) for r in rows[1:]]
    Path(out_prefix + ".json").write_text(json.dumps(metrics))
    np.savez(out_prefix + ".npz", *[np.asarray(w) for w in built[-1].get_weights()])
    saved = Path(run_dir) / "model.keras"
    if "test_accuracy" in metrics and saved.exists():  # the process that wrote the run directory
        np.savez(out_prefix + ".saved.npz", *keras.saving.load_model(saved, compile=False).get_weights())


if __name__ == "__main__":
    main()
