"""A small training run on sklearn digits, used by tests that kill and resume a process."""

import json
import sys

import keras

from convsuite.common.config import Experiment
from convsuite.common.data import load_dataset
from convsuite.common.trainer import SupervisedData, split_validation, train


def experiment(run_dir, epochs, every_steps=0, seed=0):
    exp = Experiment(name="digits-test", suite="test")
    exp.trainer.epochs = epochs
    exp.trainer.batch_size = 32
    exp.trainer.run_dir = str(run_dir)
    exp.trainer.checkpoint_every_steps = every_steps
    exp.trainer.progress = False
    exp.trainer.seed = seed
    exp.runtime.backend = keras.backend.backend()
    return exp


def digits_data():
    ds = load_dataset("digits")
    x, y, xv, yv = split_validation(ds.x_train, ds.y_train, 0.1, 0)
    return SupervisedData(x, y, xv, yv, ds.x_test, ds.y_test)


def build(dropout=0.25):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(16, 3, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(dropout)(x)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))


if __name__ == "__main__":
    run_dir, epochs, every = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    metrics = train(experiment(run_dir, epochs, every), build, digits_data())
    print(json.dumps(metrics))
