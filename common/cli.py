"""The `convsuite` command: a thin layer over the suite registry.

It reads and validates the experiment config before Keras is imported, so a bad value fails
at once and Keras starts on the chosen backend: --backend, else runtime.backend set in the
--config file or by --set, else $KERAS_BACKEND, else the experiment's default.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import sys
from pathlib import Path

from convsuite.common import config as config_lib
from convsuite.common import registry
from convsuite.common.config import BACKENDS
from convsuite.common.errors import ConvsuiteError

EPILOG = """examples:
  convsuite list
  convsuite config show timeseries --config adding        # every key: type, value, default, help
  convsuite train image                                   # LeNet-5 on Fashion-MNIST (offline)
  convsuite train image --config mcdnn-fashion --set trainer.epochs=3
  convsuite train image --config my.toml --set runtime.backend=jax --json
  convsuite train go --set trainer.monitor=val_top5       # best.keras by top-5 accuracy (maximised)
  convsuite evaluate image --checkpoint runs/lenet5-fashion
  convsuite bench image --set runtime.precision=mixed_bfloat16
  convsuite train go                                      # policy net on 9x9 GNU Go self-play (offline)
  convsuite go gtp --checkpoint runs/maddison-gnugo9      # a GTP engine for GoGui / Sabaki
  convsuite go match --checkpoint runs/maddison-gnugo9 --opponent "gnugo --mode gtp --level 10" --games 20
  convsuite --version
"""


def _add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", help="suite name (see `convsuite list`)")
    parser.add_argument("--config", metavar="NAME|FILE",
                        help="an experiment name of the suite, or a TOML file (default: the suite's default experiment)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set trainer.epochs=3 (repeatable; keys are type-checked)")
    parser.add_argument("--backend", choices=BACKENDS,
                        help="Keras backend; wins over runtime.backend set in the --config file or by --set, which "
                             "wins over $KERAS_BACKEND, which wins over the experiment's default")
    parser.add_argument("--json", action="store_true", help="print the final metrics as one JSON line on stdout "
                        "(progress goes to stderr)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convsuite", description="Specialized convolutional networks: train, evaluate and benchmark.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    parser.add_argument("--version", action="version", version=f"%(prog)s {installed_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    list_parser = commands.add_parser("list", help="list suites, their experiments and the datasets")
    list_parser.add_argument("suite", nargs="?", help="show only this suite")

    config_parser = commands.add_parser("config", help="show an experiment's keys with type, value, default and help")
    config_commands = config_parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    show = config_commands.add_parser("show", help="every key of an experiment: type, value, default, help, and "
                                                   "which architecture/task reads it")
    show.add_argument("suite", help="suite name (see `convsuite list`)")
    show.add_argument("--config", metavar="NAME|FILE",
                      help="an experiment name of the suite, or a TOML file (default: the suite's default experiment)")
    show.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                      help="override one config value first (repeatable)")
    show.add_argument("--json", action="store_true", help="print the keys as one JSON line")

    train = commands.add_parser("train", help="train (or resume) an experiment; writes a run directory")
    _add_experiment_arguments(train)
    train.add_argument("--fresh", action="store_true",
                       help="delete the run directory's checkpoints and log and start over (default: resume)")

    evaluate = commands.add_parser("evaluate", help="test-set metrics of a finished run directory")
    evaluate.add_argument("suite", help="suite name")
    evaluate.add_argument("--checkpoint", required=True, metavar="DIR", help="run directory written by `convsuite train`")
    evaluate.add_argument("--which", choices=("model", "best"), default="model",
                          help="model: the final weights (default); best: the best-validation export")
    evaluate.add_argument("--backend", choices=BACKENDS, help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as one JSON line")
    evaluate.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                          help="change one setting of the run's experiment before evaluating (repeatable), e.g. "
                               "data.source=OTHER to test on other data; suites that take no overrides say so")

    bench = commands.add_parser("bench", help="training and inference throughput on the active backend/device")
    _add_experiment_arguments(bench)

    reproduce = commands.add_parser(
        "reproduce", help="each suite's paper table: the paper's number, ours and a baseline, from (or into) run directories")
    reproduce.add_argument("suite", nargs="?", help="only this suite (default: every suite)")
    reproduce.add_argument("--quick", action="store_true",
                           help="small subsets and few epochs, in RUNS/<experiment>-quick (minutes on a CPU)")
    reproduce.add_argument("--runs", default="runs", metavar="DIR",
                           help="folder of the run directories, RUNS/<experiment>[-quick] (default: runs)")
    reproduce.add_argument("--only", metavar="EXPERIMENT", help="only the rows of this experiment")
    reproduce.add_argument("--no-train", action="store_true",
                           help="read finished runs only; a row without one shows `not run`")
    reproduce.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown to FILE")
    reproduce.add_argument("--update-results", nargs="?", const="RESULTS.md", metavar="FILE",
                           help="write the table into the marked reproduce section of FILE (default: RESULTS.md)")
    reproduce.add_argument("--json", action="store_true", help="print the rows as one JSON line (progress to stderr)")

    for suite in registry.DOMAIN_COMMANDS:
        module = registry.domain_module(suite)
        module.add_arguments(commands.add_parser(suite, help=module.HELP, description=module.HELP))
    return parser


@contextlib.contextmanager
def _stderr_silenced():
    """Hide the C++ lines TensorFlow prints on import, before its logging is configured."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def start_keras(backend: str) -> None:
    """Select the backend and import Keras (and TensorFlow, if it is the backend) quietly."""
    from convsuite.common.runtime import select_backend

    select_backend(backend)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with _stderr_silenced():
        import keras  # noqa: F401

        if backend == "tensorflow":
            import tensorflow  # noqa: F401


def installed_version() -> str:
    """The version of the installed convsuite distribution."""
    from importlib import metadata

    try:
        return metadata.version("convsuite")
    except metadata.PackageNotFoundError:
        return "(not installed; run scripts/setup.sh)"


def choose_backend(flag: str | None, experiment=None, explicit: bool = False,
                   environ: dict | None = None) -> tuple[str, str]:
    """The Keras backend and where it comes from: the --backend ``flag``, else the experiment's
    runtime.backend if a --config file or --set named it (``explicit``), else $KERAS_BACKEND,
    else the experiment's default (tensorflow without an experiment)."""
    environ = os.environ if environ is None else environ
    if flag:
        return flag, "--backend"
    if explicit and experiment is not None:
        return experiment.runtime.backend, "runtime.backend of the config"
    from_environment = environ.get("KERAS_BACKEND")
    if from_environment:
        if from_environment not in BACKENDS:
            raise ConvsuiteError(f"KERAS_BACKEND={from_environment!r} is not a backend convsuite runs on "
                                 f"({', '.join(BACKENDS)}); unset it or pass --backend")
        return from_environment, "$KERAS_BACKEND"
    if experiment is not None:
        return experiment.runtime.backend, "the experiment's default"
    return "tensorflow", "the default"


def _use_backend(flag, experiment=None, explicit: bool = False) -> str:
    """Choose the backend; say so in one line on stderr when it overrides a set $KERAS_BACKEND."""
    backend, source = choose_backend(flag, experiment, explicit)
    from_environment = os.environ.get("KERAS_BACKEND")
    if from_environment and from_environment != backend:
        print(f"convsuite: note: running on {backend} ({source}), not KERAS_BACKEND={from_environment}",
              file=sys.stderr)
    return backend


def _check_run_config(suite: str, run_dir: str) -> None:
    """Read and validate RUN/config.toml before Keras starts, so a broken one fails at once."""
    path = Path(run_dir) / "config.toml"
    if path.is_file():
        module = registry.config_module(suite)
        config_lib.experiment_from_toml(path, module.EXPERIMENTS, module.EXPERIMENTS[module.DEFAULT_EXPERIMENT])


def _show_config(args) -> None:
    """`convsuite config show`: every key of the experiment, grouped by section."""
    experiment = registry.make_experiment(args.suite, args.config, args.overrides)
    rows = config_lib.describe(experiment)
    if args.json:
        print(json.dumps({"suite": args.suite, "experiment": experiment.name, "keys": rows}))
        return
    print(f"{args.suite} experiment {experiment.name!r}: {experiment.description}")
    print("key, type, value, default and help; [only model.name=X] marks a key that only that architecture "
          "(or task) reads")
    key_width = max(len(row["key"].rpartition(".")[2]) for row in rows)
    type_width = max(len(row["type"]) for row in rows)
    value_width = min(24, max(len(row["value"]) for row in rows))
    default_width = min(16, max(len(row["default"]) for row in rows))
    section = None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            print(f"\n[{section}]" if section else "")
        notes = [text for text in (
            f"one of {', '.join(map(str, row['choices']))}" if row["choices"] else "",
            row["range"],
            f"only {row['used_by']}{'' if row['in_use'] else ', unused here'}" if row["used_by"] else "") if text]
        extra = f" [{'; '.join(notes)}]" if notes else ""
        print(f"  {row['key'].rpartition('.')[2]:<{key_width}}  {row['type']:<{type_width}}  "
              f"{row['value']:<{value_width}}  default {row['default']:<{default_width}}  {row['help']}{extra}")


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, sort_keys=True), flush=True)
        return
    width = max(len(k) for k in result) if result else 0
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")


def _list(args) -> None:
    names = [args.suite] if args.suite else sorted(registry.SUITES)
    for name in names:
        module = registry.config_module(name)
        print(f"{name}: {registry.SUITES[name]}")
        print("  experiments:")
        for experiment_name, factory in module.EXPERIMENTS.items():
            marker = " (default)" if experiment_name == module.DEFAULT_EXPERIMENT else ""
            print(f"    {experiment_name:<20} {factory().description}{marker}")
        print("  datasets:")
        for spec in registry.suite_datasets(name):
            print(f"    {spec.name:<22} {'offline ' if spec.offline else 'download'}  {spec.description}")
        listing = getattr(registry.data_module(name), "listing", None)
        for line in listing() if listing else []:
            print(f"  {line}")


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        _list(args)
        return 0
    if args.command == "config":
        _show_config(args)
        return 0
    if args.command == "reproduce":
        from convsuite.common.reproduce import run_command

        return run_command(args)
    if args.command in registry.DOMAIN_COMMANDS:
        return registry.domain_module(args.command).run(args)
    if args.command == "evaluate":
        registry._check(args.suite)
        _check_run_config(args.suite, args.checkpoint)
        start_keras(_use_backend(args.backend))
        module = registry.train_module(args.suite)
        if args.overrides:
            if "overrides" not in inspect.signature(module.evaluate).parameters:
                raise ConvsuiteError(f"`convsuite evaluate {args.suite}` takes no --set; it evaluates a run on the "
                                     "data it was trained with")
            result = module.evaluate(args.checkpoint, which=args.which, overrides=args.overrides)
        else:
            result = module.evaluate(args.checkpoint, which=args.which)
        _print_result(result, args.json)
        return 0
    experiment = registry.make_experiment(args.suite, args.config, args.overrides)
    explicit = "runtime.backend" in registry.explicit_keys(args.config, args.overrides)
    experiment.runtime.backend = _use_backend(args.backend, experiment, explicit)
    start_keras(experiment.runtime.backend)
    module = registry.train_module(args.suite)
    output = sys.stderr if args.json else sys.stdout
    with contextlib.redirect_stdout(output):
        if args.command == "train":
            from convsuite.common.trainer import open_run

            # Own the run directory before the suite loads data: a locked or read-only one fails at once.
            with open_run(experiment):
                result = module.train(experiment, resume=not args.fresh)
        else:
            result = module.bench(experiment)
    _print_result(result, args.json)
    return 0


def main(argv: list[str] | None = None) -> None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = run(argv)
    except ConvsuiteError as error:
        if debug:
            raise
        print(f"convsuite: error: {error}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("convsuite: interrupted; the last checkpoint is kept, run the same command to resume", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
