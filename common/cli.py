"""The `convsuite` command: a thin layer over the suite registry.

It reads the experiment config before Keras is imported, so the backend named in the
config (or KERAS_BACKEND) is the one Keras starts with.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys

from convsuite.common import registry
from convsuite.common.errors import ConvsuiteError

EPILOG = """examples:
  convsuite list
  convsuite train image                                   # LeNet-5 on Fashion-MNIST (offline)
  convsuite train image --config mcdnn-fashion --set trainer.epochs=3
  convsuite train image --config my.toml --set runtime.backend=jax --json
  convsuite evaluate image --checkpoint runs/lenet5-fashion
  convsuite bench image --set runtime.precision=mixed_bfloat16
  convsuite train go                                      # policy net on 9x9 GNU Go self-play (offline)
  convsuite go gtp --checkpoint runs/maddison-gnugo9      # a GTP engine for GoGui / Sabaki
  convsuite go match --checkpoint runs/maddison-gnugo9 --opponent "gnugo --mode gtp --level 10" --games 20
"""


def _add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", help="suite name (see `convsuite list`)")
    parser.add_argument("--config", metavar="NAME|FILE",
                        help="an experiment name of the suite, or a TOML file (default: the suite's default experiment)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config value, e.g. --set trainer.epochs=3 (repeatable; keys are type-checked)")
    parser.add_argument("--backend", choices=("tensorflow", "jax"),
                        help="Keras backend (same as --set runtime.backend=...; default: the config's, or $KERAS_BACKEND)")
    parser.add_argument("--json", action="store_true", help="print the final metrics as one JSON line on stdout "
                        "(progress goes to stderr)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="convsuite", description="Specialized convolutional networks: train, evaluate and benchmark.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks instead of one-line errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    list_parser = commands.add_parser("list", help="list suites, their experiments and the datasets")
    list_parser.add_argument("suite", nargs="?", help="show only this suite")

    train = commands.add_parser("train", help="train (or resume) an experiment; writes a run directory")
    _add_experiment_arguments(train)
    train.add_argument("--fresh", action="store_true",
                       help="delete the run directory's checkpoints and log and start over (default: resume)")

    evaluate = commands.add_parser("evaluate", help="test-set metrics of a finished run directory")
    evaluate.add_argument("suite", help="suite name")
    evaluate.add_argument("--checkpoint", required=True, metavar="DIR", help="run directory written by `convsuite train`")
    evaluate.add_argument("--which", choices=("model", "best"), default="model",
                          help="model: the final weights (default); best: the best-validation export")
    evaluate.add_argument("--backend", choices=("tensorflow", "jax"), help="Keras backend (default: $KERAS_BACKEND or tensorflow)")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as one JSON line")

    bench = commands.add_parser("bench", help="training and inference throughput on the active backend/device")
    _add_experiment_arguments(bench)

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


def _backend_for(args, experiment=None) -> str:
    explicit = [o for o in getattr(args, "overrides", []) if o.split("=", 1)[0].strip() == "runtime.backend"]
    if args.backend:
        return args.backend
    if explicit and experiment is not None:
        return experiment.runtime.backend
    return os.environ.get("KERAS_BACKEND", experiment.runtime.backend if experiment else "tensorflow")


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, sort_keys=True), flush=True)
        return
    width = max(len(k) for k in result) if result else 0
    for key, value in result.items():
        shown = f"{value:.4f}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")


def _list(args) -> None:
    from convsuite.common.data import DATASETS

    names = [args.suite] if args.suite else sorted(registry.SUITES)
    for name in names:
        module = registry.config_module(name)
        print(f"{name}: {registry.SUITES[name]}")
        for experiment_name, factory in module.EXPERIMENTS.items():
            marker = " (default)" if experiment_name == module.DEFAULT_EXPERIMENT else ""
            print(f"  {experiment_name:<18} {factory().description}{marker}")
    if not args.suite:
        print("datasets:")
        for spec in DATASETS.values():
            print(f"  {spec.name:<14} {'offline ' if spec.offline else 'download'}  {spec.description}")


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        _list(args)
        return 0
    if args.command in registry.DOMAIN_COMMANDS:
        return registry.domain_module(args.command).run(args)
    if args.command == "evaluate":
        registry._check(args.suite)
        start_keras(_backend_for(args))
        result = registry.train_module(args.suite).evaluate(args.checkpoint, which=args.which)
        _print_result(result, args.json)
        return 0
    experiment = registry.make_experiment(args.suite, args.config, args.overrides)
    experiment.runtime.backend = _backend_for(args, experiment)
    start_keras(experiment.runtime.backend)
    module = registry.train_module(args.suite)
    output = sys.stderr if args.json else sys.stdout
    with contextlib.redirect_stdout(output):
        if args.command == "train":
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
