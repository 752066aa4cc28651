"""One module per time-series task (forecast, classify, anomaly, synthetic adding/copy), each
with ``train(experiment, resume)``, ``evaluate(experiment, run_dir, which)`` and
``bench_inputs(experiment, n, rng)``; ``suites/timeseries/train.py`` dispatches on ``data.task``."""


def described(experiment) -> dict:
    """The keys every time-series run adds to metrics.json."""
    return {"task": experiment.data.task, "model": experiment.model.name, "dataset": experiment.data.dataset}


def compile_if_needed(model, loss, metrics) -> None:
    """A loaded model saved without its compile state gets the task's loss and metrics."""
    if not model.compiled:
        model.compile(loss=loss, metrics=metrics)
