"""Trainer, evaluator and benchmark of the checkers suite: Blondie24's co-evolution.

`train` runs the generations of ``evolution.py`` on the shared worker pool and keeps all of
its state in a ``RunState`` (population, step sizes, king values, the RNG, the last
generation's games), checkpointed after every generation, so ``kill -9`` and the same command
continue the same run exactly. After every generation the best network is appended to
``champions.npz``; every ``evolution.eval_every`` generations it plays the piece-count player
(the curve of the notebook). At the end the last champion is saved as ``model.keras`` (the
best-scoring evaluated one as ``best.keras``) and plays the final matches: against the
piece-count alpha-beta at equal depth and against the initial random population, next to the
generation-0 network against the piece-count player as the baseline.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from convsuite.common import trainer as trainer_lib
from convsuite.common.checkpoint import atomic_write_bytes
from convsuite.common.errors import ConvsuiteError
from convsuite.common.pool import WorkerPool
from convsuite.common.results import read_metrics
from convsuite.common.rundir import RESUMABLE_KEYS
from convsuite.common.runstate import RunState
from convsuite.suites.checkers import evolution as evo
from convsuite.suites.checkers.champions import load_champions, write_champions
from convsuite.suites.checkers.config import EXPERIMENTS, CheckersExperiment, blondie24
from convsuite.suites.checkers.network import WEIGHT_COUNT

INITIAL_POPULATION = "initial_population.npz"
# A run may be continued for more generations, with other workers, or evaluated differently.
RESUMABLE = (*RESUMABLE_KEYS, "evolution.generations", "evolution.workers", "evolution.eval_every",
             "evolution.eval_games", "evolution.final_games", "runtime.cluster")


def experiment_from_run(run_dir: str | Path) -> CheckersExperiment:
    """Rebuild the experiment a run directory was trained with (its config.toml)."""
    return trainer_lib.experiment_from_run(run_dir, EXPERIMENTS, blondie24)


def load_run(run_dir: str | Path, which: str = "model"):
    """(model, experiment) of a run directory: ``model.keras`` (the last champion) or ``best.keras``
    (the champion that scored best against the piece-count player)."""
    if not Path(run_dir).is_dir():
        raise ConvsuiteError(f"checkpoint directory {run_dir} does not exist; give a run directory written by "
                             "`convsuite train checkers`")
    experiment = experiment_from_run(run_dir)
    return trainer_lib.load_run_model(run_dir, which), experiment


def _ballots(experiment: CheckersExperiment) -> str | None:
    """What `match_openings` is given: None (random 2-ply), a ballot file that must exist, or ""
    (the default ballot file when it exists, else random 2-ply)."""
    from convsuite.suites.checkers.data import default_ballots_path

    d = experiment.data
    if d.dataset == "random-2ply-openings":
        return None
    if d.dataset == "acf-three-move-ballots" or d.ballots:
        return d.ballots or str(default_ballots_path(d.data_dir))
    default = default_ballots_path(d.data_dir)
    return str(default) if default.is_file() else None


def _network_spec(weights: np.ndarray, king: float, depth: int):
    from convsuite.suites.checkers.players import PlayerSpec

    return PlayerSpec("network", depth=depth, flat=np.asarray(weights, np.float64), king_value=float(king))


def _piece_count_spec(depth: int):
    from convsuite.suites.checkers.players import PlayerSpec

    return PlayerSpec("piece-count", depth=depth)


def _match(spec, opponents, games: int, experiment: CheckersExperiment, seed: int, pool: WorkerPool):
    from convsuite.suites.checkers.match import play_match

    return play_match(spec, opponents, games=games, seed=seed, move_limit=experiment.evolution.move_limit,
                      ballots_path=_ballots(experiment), pool=pool)


def _match_metrics(prefix: str, result) -> dict:
    return {f"score_vs_{prefix}": round(result.score, 4),
            f"score_vs_{prefix}_ci95": [round(result.ci_low, 4), round(result.ci_high, 4)],
            f"{prefix}_match": {"wins": result.wins, "draws": result.draws, "losses": result.losses,
                                "games": result.game_count, "openings": result.opening_source}}


def _save_networks(run_dir: Path, experiment: CheckersExperiment, weights, king, name: str) -> None:
    """Write a champion as ``<name>.keras`` (imports Keras only here, at the end of a run)."""
    from convsuite.common.checkpoint import save_model_atomic
    from convsuite.suites.checkers.models import build_model, set_flat_weights

    model = build_model(experiment)
    set_flat_weights(model, weights, king)
    save_model_atomic(model, run_dir / f"{name}.keras")


def train(experiment: CheckersExperiment, resume: bool = True) -> dict:
    """Run the co-evolution; write the run directory; return its metrics."""
    experiment.validate()
    e, seed = experiment.evolution, experiment.trainer.seed
    players = 2 * e.parents
    state = RunState.open(experiment, resume=resume, total_steps=e.generations, may_change=RESUMABLE)
    try:
        if state.finished:
            print(f"{state.path} has finished already; its metrics:")
            return read_metrics(state.path)
        rng = np.random.default_rng([seed, 1])
        state.add_generator("evolution", rng)
        population = evo.initial_population(e.parents, np.random.default_rng([seed, 0]), experiment.model.init_range,
                                            e.initial_step_size if e.mutation == "self-adaptive" else e.fixed_step_size,
                                            experiment.model.king_value)
        initial = population.take(np.arange(e.parents))
        state.arrays.update(weights=population.weights, steps=population.steps, kings=population.kings,
                            games=np.zeros((players * e.games_per_player, 4), np.int64))
        state.values.update(evaluations=[], seconds=0.0)
        state.restore()
        population = evo.Population(state.arrays["weights"], state.arrays["steps"], state.arrays["kings"])
        path = state.path
        if not (path / INITIAL_POPULATION).exists():
            _write_npz(path / INITIAL_POPULATION, weights=initial.weights, kings=initial.kings)
        champions = _champion_rows(path, state.step, population)
        with WorkerPool(e.workers, experiment.runtime.cluster) as pool:
            while state.step < e.generations:
                started = time.perf_counter()
                generation = state.step + 1
                everyone = _concat(population, evo.offspring(
                    population, rng, self_adaptive=e.mutation == "self-adaptive", tau=e.tau,
                    fixed_step=e.fixed_step_size, king_step=e.king_step))
                pairs = evo.schedule_games(players, e.games_per_player, rng)
                seeds = rng.integers(0, 2**62, size=len(pairs))
                items = evo.generation_games(everyone, pairs, seeds, e.search_depth, e.extend_captures, e.move_limit)
                outcomes = pool.map(evo.play_network_game, items)
                winners = np.array([w for w, _ in outcomes])
                plies = np.array([p for _, p in outcomes])
                points = evo.game_points(pairs, winners, players, e.win_points, e.draw_points, e.loss_points)
                kept = evo.survivors(points, e.parents)
                population.weights[...] = everyone.weights[kept]
                population.steps[...] = everyone.steps[kept]
                population.kings[...] = everyone.kings[kept]
                state.arrays["games"][...] = np.column_stack([pairs, winners, plies])
                champions.append((generation, population.weights[0].copy(), float(population.kings[0])))
                _write_champion_rows(path, champions)
                row = {"generation": generation, "best_points": float(points[kept[0]]),
                       "mean_points": float(points.mean()), "offspring_survived": int((kept >= e.parents).sum()),
                       "black_wins": int((winners == 0).sum()), "white_wins": int((winners == 1).sum()),
                       "draws": int((winners == -1).sum()), "mean_plies": float(plies.mean()),
                       "champion_king_value": float(population.kings[0]),
                       "mean_king_value": float(population.kings.mean()),
                       "mean_step_size": float(population.steps.mean())}
                if e.eval_every and generation % e.eval_every == 0:
                    result = _match(_network_spec(population.weights[0], population.kings[0], e.eval_depth),
                                    _piece_count_spec(e.eval_depth), e.eval_games, experiment, seed + generation, pool)
                    row["score_vs_piece_count"] = round(result.score, 4)
                    state.values["evaluations"].append([generation, result.score, result.wins, result.draws,
                                                        result.losses])
                state.values["seconds"] += time.perf_counter() - started
                row["seconds"] = round(time.perf_counter() - started, 3)
                state.step = generation
                state.log(row)
                state.save()
            return _finish(experiment, state, initial, champions, pool)
    finally:
        state.close()


def _finish(experiment, state, initial, champions, pool) -> dict:
    e, seed, path = experiment.evolution, experiment.trainer.seed, state.path
    generation, weights, king = champions[-1]
    _save_networks(path, experiment, weights, king, "model")
    evaluations = state.values["evaluations"]
    best_generation = generation
    if evaluations:
        best_generation = int(max(evaluations, key=lambda r: (r[1], r[0]))[0])
    _, best_weights, best_king = next(c for c in champions if c[0] == best_generation)
    _save_networks(path, experiment, best_weights, best_king, "best")
    depth = e.eval_depth
    final = _match(_network_spec(weights, king, depth), _piece_count_spec(depth), e.final_games, experiment,
                   seed + 1_000_003, pool)
    _, first_weights, first_king = champions[0]
    baseline = _match(_network_spec(first_weights, first_king, depth), _piece_count_spec(depth), e.final_games,
                      experiment, seed + 1_000_003, pool)
    against_initial = _match(_network_spec(weights, king, depth),
                             [_network_spec(w, k, depth) for w, k in zip(initial.weights, initial.kings)],
                             e.final_games, experiment, seed + 2_000_003, pool)
    seconds = state.values["seconds"]
    metrics = {
        "experiment": experiment.name, "suite": experiment.suite, "generations": int(state.step),
        "device": "cpu", "backend": "numpy", "workers": e.workers, "search_depth": e.search_depth, "eval_depth": depth,
        "train_seconds": round(seconds, 3), "seconds_per_generation": round(seconds / max(1, state.step), 3),
        "champion_generation": int(generation), "best_generation": best_generation,
        "champion_king_value": round(float(king), 4),
        **_match_metrics("piece_count", final),
        "baseline_initial_score_vs_piece_count": round(baseline.score, 4),
        "baseline_initial_score_vs_piece_count_ci95": [round(baseline.ci_low, 4), round(baseline.ci_high, 4)],
        "baseline_initial_piece_count_match": {"wins": baseline.wins, "draws": baseline.draws,
                                               "losses": baseline.losses, "games": baseline.game_count},
        **_match_metrics("initial_population", against_initial),
        "evaluations": [{"generation": int(g), "score_vs_piece_count": round(s, 4), "wins": int(w), "draws": int(d),
                         "losses": int(lo)} for g, s, w, d, lo in evaluations],
    }
    return state.finish(metrics)


def _concat(a: evo.Population, b: evo.Population) -> evo.Population:
    return evo.Population(np.concatenate([a.weights, b.weights]), np.concatenate([a.steps, b.steps]),
                          np.concatenate([a.kings, b.kings]))


def _write_npz(path: Path, **arrays) -> None:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def _champion_rows(path: Path, step: int, population: evo.Population) -> list:
    """The champions of generations 0..step (a file written past the checkpoint is cut back)."""
    rows = []
    if (path / "champions.npz").exists() and step > 0:
        try:
            generations, weights, kings = load_champions(path)
        except ConvsuiteError as error:
            raise ConvsuiteError(f"{error}. The population checkpoint is intact: move champions.npz away to go on "
                                 "without the earlier champions, or start over with --fresh") from None
        rows = [(int(g), w, float(k)) for g, w, k in zip(generations, weights, kings) if g <= step]
    if not rows:
        rows = [(0, population.weights[0].copy(), float(population.kings[0]))]
    return rows


def _write_champion_rows(path: Path, rows: list) -> None:
    write_champions(path, [g for g, _, _ in rows], np.stack([w for _, w, _ in rows]), [k for _, _, k in rows])


def evaluate(run_dir: str | Path, which: str = "model") -> dict:
    """A saved network (``model`` or ``best``) against the piece-count player at the run's evaluation depth."""
    from convsuite.suites.checkers.models import flat_weights

    model, experiment = load_run(run_dir, which)
    weights, king = flat_weights(model)
    e = experiment.evolution
    with WorkerPool(e.workers, experiment.runtime.cluster) as pool:
        result = _match(_network_spec(weights, king, e.eval_depth), _piece_count_spec(e.eval_depth), e.final_games,
                        experiment, experiment.trainer.seed + 1_000_003, pool)
    return {"experiment": experiment.name, "checkpoint": str(run_dir), "which": which, "king_value": round(king, 4),
            "eval_depth": e.eval_depth, **_match_metrics("piece_count", result)}


def bench(experiment: CheckersExperiment, seconds: float = 2.0) -> dict:
    """perft nodes/s, leaf evaluations/s (batched and one at a time), search nodes/s, and seconds per
    generation at the experiment's settings (its population, games and depth) on its workers."""
    from convsuite.suites.checkers.board import Position, perft
    from convsuite.suites.checkers.network import NetworkEvaluator, board_codes
    from convsuite.suites.checkers.search import AlphaBetaSearch

    experiment.validate()
    e = experiment.evolution
    start = Position()
    began = time.perf_counter()
    nodes = perft(*start.key, 7)
    perft_rate = nodes / (time.perf_counter() - began)

    rng = np.random.default_rng(0)
    evaluator = NetworkEvaluator(rng.uniform(-0.2, 0.2, WEIGHT_COUNT), 2.0)
    boards = _random_positions(400, rng)
    black, white, kings = (np.array([b[i] for b in boards], np.int64) for i in range(3))
    batch = 10  # about the children of one search node
    began, done = time.perf_counter(), 0
    while time.perf_counter() - began < seconds / 4:
        for i in range(0, len(boards), batch):
            evaluator.evaluate(black[i:i + batch], white[i:i + batch], kings[i:i + batch], 0)
        done += len(boards)
    batched_rate = done / (time.perf_counter() - began)
    began, done = time.perf_counter(), 0
    while time.perf_counter() - began < seconds / 4:
        for i in range(len(boards)):
            evaluator.evaluate_codes(board_codes(black[i:i + 1], white[i:i + 1], kings[i:i + 1], 0))
        done += len(boards)
    single_rate = done / (time.perf_counter() - began)

    search = AlphaBetaSearch(evaluator, depth=e.search_depth, extend_captures=e.extend_captures)
    began, searched = time.perf_counter(), 0
    for b in boards[:40]:
        position = Position(*b)
        if position.legal_moves():
            search.table.clear()
            searched += search.search(position).nodes
    search_rate = searched / (time.perf_counter() - began)

    # one generation at the experiment's settings
    players = 2 * e.parents
    population = evo.initial_population(players, np.random.default_rng(1))
    pairs = evo.schedule_games(players, e.games_per_player, rng)
    items = evo.generation_games(population, pairs, rng.integers(0, 2**62, len(pairs)), e.search_depth,
                                 e.extend_captures, e.move_limit)
    with WorkerPool(e.workers, experiment.runtime.cluster) as pool:
        pool.map(evo.play_network_game, items[:2])  # start the workers
        began = time.perf_counter()
        outcomes = pool.map(evo.play_network_game, items)
        generation_seconds = time.perf_counter() - began
    from convsuite.common.pool import available_cpus

    return {"suite": "checkers", "model": experiment.model.name, "device": "cpu",
            "workers": e.workers or available_cpus(), "perft_nodes_per_s": round(perft_rate),
            "leaf_evaluations_per_s_batched": round(batched_rate), "leaf_evaluations_per_s_single": round(single_rate),
            "batched_speedup": round(batched_rate / single_rate, 2), "search_depth": e.search_depth,
            "search_nodes_per_s": round(search_rate), "games_per_generation": len(items),
            "mean_plies": round(float(np.mean([p for _, p in outcomes])), 1),
            "seconds_per_generation": round(generation_seconds, 2),
            "paper_generations_per_day": round(86400 / generation_seconds, 1)}


def _random_positions(count: int, rng: np.random.Generator) -> list[tuple]:
    """Positions of random games (a spread of openings, middle games and endings)."""
    from convsuite.suites.checkers.board import Game

    out = []
    while len(out) < count:
        game = Game(move_limit=100)
        while not game.is_over() and len(out) < count:
            moves = game.legal_moves()
            game.play(moves[rng.integers(len(moves))])
            out.append(game.position.key[:3])
    return out
