"""Multi-worker data-parallel training with a custom step, for TensorFlow's MultiWorkerMirroredStrategy.

Keras 3 ``model.fit`` fails under ``tf.distribute.MultiWorkerMirroredStrategy`` ("Attempt to
convert a value (PerReplica...) to a Tensor", upstream keras-team/keras#20585), so
``trainer.train`` hands ``runtime.strategy=multiworker`` runs to :func:`train_multiworker`.
It keeps what makes a multi-worker run equal to a one-process run with the same global batch:

- every worker builds the same batches as the single-process trainer
  (``inputs.training_batches``: the order of epoch ``e`` is ``epoch_order(seed, e, n)``),
  batched by the *global* batch size; DATA auto-sharding then gives each worker its slice
  of every global batch;
- each replica sums its per-example losses and divides by the number of examples in the
  whole global batch (all-reduced, so a short last batch is weighted correctly); summing
  the replicas' gradients then gives the gradient of the global-batch mean, as ``fit`` does.

Only the chief (task 0) owns and writes the run directory (lock, config.toml, checkpoints,
log.csv, metrics.json); the other workers save to a temporary directory because saving may
need every worker to take part, and restore from the chief's checkpoints when they resume.
What is not supported here: mid-epoch checkpoints, per-epoch validation, and
``mixed_float16`` (it needs loss scaling).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from convsuite.common.checkpoint import CheckpointStore, save_model_atomic
from convsuite.common.errors import ConvsuiteError
from convsuite.common.inputs import steps_per_epoch, training_batches
from convsuite.common.progress import Progress
from convsuite.common.rundir import RunDirectory, run_directory
from convsuite.common.runlog import ScalarLog
from convsuite.common.runstate import RunState


def worker_role(runtime) -> tuple[str, int, int]:
    """(task type, task index, number of workers) of this process, from the strategy's resolver."""
    resolver = getattr(runtime.strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return "worker", 0, 1
    jobs = resolver.cluster_spec().as_dict()
    workers = sum(len(jobs.get(job, ())) for job in ("chief", "worker"))
    return resolver.task_type or "worker", int(resolver.task_id or 0), max(1, workers)


def is_chief(runtime) -> bool:
    """The chief writes the run directory: the "chief" task if the cluster has one, else worker 0."""
    task_type, task_id, _ = worker_role(runtime)
    resolver = getattr(runtime.strategy, "cluster_resolver", None)
    has_chief = resolver is not None and "chief" in resolver.cluster_spec().as_dict()
    return task_type == "chief" or (task_type == "worker" and task_id == 0 and not has_chief)


def describe_strategy(runtime) -> str:
    """One line for logs: which strategy, which worker this is, how many replicas."""
    if runtime.strategy is None:
        return f"no tf.distribute strategy ({runtime.backend}, {runtime.device_kind})"
    name = type(runtime.strategy).__name__.replace("CollectiveAllReduceStrategy", "MultiWorkerMirroredStrategy")
    replicas = int(runtime.strategy.num_replicas_in_sync)
    if runtime.is_multiworker:
        task_type, task_id, workers = worker_role(runtime)
        return f"{name}: {task_type} {task_id} of {workers} workers, {replicas} replicas in sync"
    return f"{name}: {replicas} replica{'s' if replicas != 1 else ''} in sync on {runtime.device_kind}"


def _per_example_loss(loss):
    """A function (y_true, y_pred) -> one loss per example, whatever form ``loss`` was given in."""
    import keras

    if isinstance(loss, keras.losses.Loss):
        function = loss.call  # the unreduced values; the Loss's own reduction is skipped
    else:
        function = keras.losses.get(loss)
    if function is None:
        raise ConvsuiteError(f"unknown loss {loss!r}; pass a keras loss name, function or keras.losses.Loss")

    def per_example(y_true, y_pred):
        values = keras.ops.convert_to_tensor(function(y_true, y_pred), dtype="float32")
        if len(values.shape) > 1:  # e.g. per-pixel losses: average within each example, like fit
            values = keras.ops.mean(values, axis=tuple(range(1, len(values.shape))))
        return values

    return per_example


def train_multiworker(experiment, build_model, data, runtime, *, loss="sparse_categorical_crossentropy",
                      metrics=("accuracy",), resume: bool = True) -> dict:
    """Train ``experiment`` under ``runtime.strategy`` (a MultiWorkerMirroredStrategy) with a
    custom step; the chief writes the run directory; return the metrics.

    Checkpoints (``trainer.checkpoint_every_epochs`` and the last epoch; not mid-epoch) hold the
    model's and optimizer's variables and the per-epoch losses, in the run directory's
    ``checkpoints/`` (``common.runstate``). With ``resume`` every worker restores the chief's
    newest intact checkpoint (the run directory must be on a file system they all see) and the
    workers check they start from the same epoch. ``worker_train_examples`` counts what this
    process trained since it started."""
    cfg = experiment.trainer
    if experiment.runtime.precision == "mixed_float16":
        raise ConvsuiteError("runtime.precision=mixed_float16 is not supported with runtime.strategy=multiworker "
                             "(it needs loss scaling); use mixed_bfloat16 or float32")
    chief = is_chief(runtime)
    shared_dir = run_directory(experiment)
    # Only the chief owns the run directory; the others save to a directory of their own, because
    # reading distributed variables for a checkpoint may need every worker to take part.
    run = RunDirectory.open(shared_dir if chief else Path(tempfile.mkdtemp(prefix="convsuite-worker-")))
    try:
        if chief and not resume:
            run.start_over()
        checkpoint = CheckpointStore(shared_dir).latest(repoint=chief) if resume else None
        epochs_done = int(checkpoint.record["values"]["epochs_done"]) if checkpoint is not None else 0
        if chief:
            run.claim_config(experiment, resuming=checkpoint is not None, finished=epochs_done >= cfg.epochs)
        return _train_multiworker(experiment, build_model, data, runtime, run, checkpoint, chief, loss, metrics)
    finally:
        run.close()
        if not chief:
            shutil.rmtree(run.path, ignore_errors=True)


def _train_multiworker(experiment, build_model, data, runtime, run, checkpoint, chief, loss, metrics) -> dict:
    import keras
    import tensorflow as tf

    from convsuite.common.trainer import make_optimizer

    cfg = experiment.trainer
    strategy = runtime.strategy
    log = print if chief else (lambda *args, **kwargs: None)
    log(describe_strategy(runtime))

    # Same seed on every worker: identical initial weights even before the strategy broadcasts them.
    keras.utils.set_random_seed(cfg.seed)
    with strategy.scope():
        model = build_model()
        optimizer = make_optimizer(cfg)
        optimizer.build(model.trainable_variables)
    state = RunState(run, keep=cfg.keep_checkpoints, total_steps=cfg.epochs, progress=False)
    state.add_model("model", model, optimizer)
    state.values.update(epochs_done=0, loss_per_epoch=[], train_seconds=0.0)
    if checkpoint is not None:
        state.restore(checkpoint, quiet=not chief)
    first_epoch = int(state.values["epochs_done"])
    if not _same_on_every_worker(strategy, first_epoch):
        raise ConvsuiteError(f"the workers resume {run_directory(experiment)} from different epochs (this one from "
                             f"{first_epoch}); give every worker the same trainer.run_dir on a shared file system")
    per_example_loss = _per_example_loss(loss)

    n = len(data.y_train)
    per_epoch = steps_per_epoch(n, cfg.batch_size)
    scalars = ScalarLog(run.path, "epoch", tensorboard=chief, validation_run=True, tag_prefix="epoch_")
    scalars.truncate(before=first_epoch)
    progress = Progress(cfg.epochs, first_epoch, bar=False)
    local_examples = 0.0  # examples this worker's own replicas trained on: ~1/workers of the total
    if first_epoch < cfg.epochs:
        dataset = training_batches(data.x_train, data.y_train, cfg.batch_size, cfg.seed, first_epoch, cfg.epochs,
                                   decode=data.decode)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        batches = iter(strategy.experimental_distribute_dataset(dataset.with_options(options)))

        def step(x, y):
            context = tf.distribute.get_replica_context()
            local_count = tf.cast(tf.shape(y)[0], "float32")
            # Examples in the whole global batch: differs from batch_size only for a short last batch.
            global_count = context.all_reduce(tf.distribute.ReduceOp.SUM, local_count)
            with tf.GradientTape() as tape:
                y_pred = model(x, training=True)
                local_sum = tf.reduce_sum(per_example_loss(y, keras.ops.cast(y_pred, "float32")))
                scaled = local_sum / tf.maximum(global_count, 1.0)
                if model.losses:  # regularisers: counted once in total, as fit does
                    scaled += tf.add_n([tf.cast(v, "float32") for v in model.losses]) / strategy.num_replicas_in_sync
            gradients = tape.gradient(scaled, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return local_sum, local_count

        @tf.function
        def train_step(batch):
            loss_sum, count = strategy.run(step, args=batch)
            return (strategy.reduce(tf.distribute.ReduceOp.SUM, loss_sum, axis=None),
                    strategy.reduce(tf.distribute.ReduceOp.SUM, count, axis=None), count)

        for epoch in range(first_epoch, cfg.epochs):
            if cfg.lr_decay_per_epoch != 1.0:
                optimizer.learning_rate.assign(cfg.learning_rate * cfg.lr_decay_per_epoch**epoch)
            start = time.perf_counter()
            loss_sum, count = 0.0, 0.0
            for _ in range(per_epoch):
                batch_sum, batch_count, per_replica = train_step(next(batches))
                local_examples += sum(float(v) for v in strategy.experimental_local_results(per_replica))
                loss_sum += float(batch_sum)
                count += float(batch_count)
            seconds = time.perf_counter() - start
            # Example-weighted mean over the epoch: the number fit reports as "loss".
            state.values["loss_per_epoch"].append(loss_sum / max(count, 1.0))
            state.values["train_seconds"] += seconds
            state.values["epochs_done"] = epoch + 1
            row = {"loss": state.values["loss_per_epoch"][-1], "examples_per_s": count / max(seconds, 1e-9)}
            if chief:
                scalars.write({"epoch": epoch, **row})
                progress.report(f"epoch {epoch + 1}/{cfg.epochs}", row, done=epoch + 1)
            every = cfg.checkpoint_every_epochs
            if epoch + 1 == cfg.epochs or (every and (epoch + 1) % every == 0):
                state.save(step=(epoch + 1) * per_epoch)  # every worker: reading the variables may need them all
    scalars.close()

    # Every worker saves (reading distributed variables may need all of them); only the chief's file is kept.
    save_model_atomic(model, run.path / "model.keras")
    history = state.values["loss_per_epoch"]
    seconds_total = state.values["train_seconds"]
    metrics_out = {
        "experiment": experiment.name,
        "suite": experiment.suite,
        "epochs": int(cfg.epochs),
        "backend": runtime.backend,
        "device": runtime.device_kind,
        "replicas": runtime.num_replicas,
        "workers": worker_role(runtime)[2],
        "precision": experiment.runtime.precision,
        "train_loss": float(history[-1]),
        "train_loss_per_epoch": [float(v) for v in history],
        "train_examples": int(n),
        "worker_train_examples": int(local_examples),
        "test_examples": int(len(data.y_test)),
        "train_seconds": round(seconds_total, 3),
        "train_examples_per_s": round(n * len(history) / max(seconds_total, 1e-9), 1),
    }
    if not chief:
        return metrics_out
    # Evaluate a plain (undistributed) copy: fit/evaluate on the distributed model hit the same Keras bug.
    # The caller's build_model has registered any custom layers in this process already.
    plain = keras.saving.load_model(run.path / "model.keras", compile=False)
    plain.compile(loss=loss, metrics=list(metrics))
    metrics_out.update(_evaluate(plain, data.x_test, data.y_test, "test", data.decode))
    if len(data.y_val):
        metrics_out.update(_evaluate(plain, data.x_val, data.y_val, "val", data.decode))
    return run.write_metrics(metrics_out)


def _same_on_every_worker(strategy, value: int) -> bool:
    """Whether every worker holds the same ``value`` (mean of squares equals the squared mean)."""
    import tensorflow as tf

    @tf.function
    def spread():
        both = strategy.run(lambda: tf.constant([float(value), float(value) ** 2]))
        return strategy.reduce(tf.distribute.ReduceOp.MEAN, both, axis=None)

    mean, mean_of_squares = (float(v) for v in spread().numpy())
    return abs(mean_of_squares - mean * mean) < 1e-6


def _evaluate(model, x, y, prefix: str, decode=None) -> dict:
    from convsuite.common.trainer import evaluate_model

    return {f"{prefix}_{key}": value for key, value in evaluate_model(model, x, y, decode=decode).items()}


def tf_config_for(ports: list[int], index: int, host: str = "127.0.0.1") -> str:
    """TF_CONFIG for worker ``index`` of a cluster on ``host`` (tests and one-machine runs)."""
    return json.dumps({"cluster": {"worker": [f"{host}:{p}" for p in ports]},
                       "task": {"type": "worker", "index": index}})


__all__ = ["train_multiworker", "describe_strategy", "is_chief", "worker_role", "tf_config_for"]
