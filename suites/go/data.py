"""Go games and the training positions cut from them.

Where games come from (``data.source``):
  gnugo-selfplay    games GNU Go plays against itself over GTP after a few uniformly random
                    opening moves (GNU Go is deterministic; the random start makes every game
                    different). Generated once into data/go/ and reused; needs only the
                    Debian package ``gnugo``, so the default run downloads nothing.
  gnugo-regression  the 19x19 games in GNU Go's regression suite (mostly amateur and computer
                    games), read straight out of GNU Go's Debian source archive, which
                    ``scripts/setup.sh`` fetches from the Debian archive.
  PATH[,PATH...]    any SGF collection: .sgf files, folders, .tar.gz / .zip archives (KGS,
                    GoGoD, Tygem ...).

Splits are by game, never by position, so no test position shares a game with training.
"""

from __future__ import annotations

import hashlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convsuite.common.checkpoint import atomic_write_bytes, atomic_write_text
from convsuite.common.data import data_root, register_dataset
from convsuite.common.errors import ConvsuiteError
from convsuite.common.pool import WorkerPool, available_cpus
from convsuite.suites.go.board import BLACK, PASS, WHITE, Board
from convsuite.suites.go.features import PositionBatch, batch_planes, num_planes, pack_planes, unpack_planes
from convsuite.suites.go.sgf import GameRecord, SkipLog, iter_games, parse_sgf, read_game, record_to_sgf

GNUGO_ARCHIVE = "gnugo_3.8.orig.tar.gz"
GNUGO_ARCHIVE_SHA256 = "da68d7a65f44dcf6ce6e4e630b6f6dd9897249d34425920bfdd4e07ff1866a72"


def gnugo_program() -> str:
    """The GNU Go executable (Debian installs it to /usr/games, often not on PATH)."""
    found = shutil.which("gnugo") or ("/usr/games/gnugo" if Path("/usr/games/gnugo").exists() else None)
    if not found:
        raise ConvsuiteError("GNU Go is not installed; install the Debian package gnugo (sudo apt-get install gnugo), "
                             "or set data.source to a folder or archive of SGF games")
    return found


# --------------------------------------------------------------------------- self-play


def _random_opening(board: Board, moves: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Uniformly random legal moves on the third line or above (edge moves make lopsided games)."""
    rows, cols = np.divmod(np.arange(board.num_points), board.size)
    inner = np.minimum(np.minimum(rows, cols), np.minimum(board.size - 1 - rows, board.size - 1 - cols)) >= 2
    played = []
    for _ in range(moves):
        legal = np.flatnonzero(board.legal_moves() & inner)
        move = int(rng.choice(legal)) if len(legal) else PASS
        played.append((board.to_play, move))
        board.play(move)
    return played


def play_gnugo_game(size: int, komi: float, level: int, random_opening: int, seed: int,
                    max_moves: int | None = None) -> GameRecord:
    """One game of GNU Go against itself, starting from ``random_opening`` random moves."""
    from convsuite.suites.go.board import from_gtp, to_gtp
    from convsuite.suites.go.gtp_client import GtpClient

    rng = np.random.default_rng([seed, size, level])
    board = Board(size, komi)
    moves = _random_opening(board, random_opening, rng)
    max_moves = max_moves or 3 * size * size
    command = [gnugo_program(), "--mode", "gtp", "--level", str(level), "--chinese-rules"]
    with GtpClient(command) as engine:
        engine.send(f"set_random_seed {seed % 2**31}")
        engine.send(f"boardsize {size}")
        engine.send("clear_board")
        engine.send(f"komi {komi}")
        for color, move in moves:
            engine.send(f"play {'b' if color == BLACK else 'w'} {to_gtp(move, size)}")
        result = ""
        while not board.game_over and len(moves) < max_moves:
            color = board.to_play
            answer = engine.send(f"genmove {'b' if color == BLACK else 'w'}").strip().lower()
            if answer == "resign":
                result = f"{'W' if color == BLACK else 'B'}+R"
                break
            move = from_gtp(answer, size)
            board.play(move, color)
            moves.append((color, move))
        if not result:
            result = engine.send("final_score").strip()
    winner = BLACK if result.startswith("B+") else WHITE if result.startswith("W+") else 0
    return GameRecord(size=size, komi=komi, result=result, winner=winner, setup_black=[], setup_white=[],
                      first_player=BLACK, moves=moves, handicap=0,
                      players={"PB": f"GNU Go level {level}", "PW": f"GNU Go level {level}"},
                      name="", properties={"GC": [f"random opening moves: {random_opening}"]})


def _generate_one(job: tuple) -> str:
    """One self-play game as SGF text. Runs in a worker (which needs GNU Go); the caller writes
    the file, so workers on other machines need no shared disk."""
    size, komi, level, random_opening, seed = job
    record = play_gnugo_game(size, komi, level, random_opening, seed)
    return record_to_sgf(record, GC=f"random opening moves: {random_opening}")


def _worker_pool(data_cfg, cluster: str, jobs: int) -> WorkerPool:
    """``data.workers`` local processes, never more than there are jobs (a single job runs
    inline), or the Ray cluster ``cluster``, which schedules by its own CPUs."""
    if cluster:
        return WorkerPool(data_cfg.workers, cluster)
    return WorkerPool(min(data_cfg.workers or available_cpus(), jobs))


def selfplay_folder(data_cfg) -> Path:
    return (data_root(data_cfg.data_dir) / "go" /
            f"gnugo-selfplay-{data_cfg.board_size}x{data_cfg.board_size}-level{data_cfg.gnugo_level}"
            f"-open{data_cfg.random_opening}-komi{data_cfg.komi:g}")


def generate_selfplay(data_cfg, seed: int = 0, progress: bool = True, cluster: str = "") -> Path:
    """Make sure ``data_cfg.games`` self-play games exist on disk.

    ``data.workers`` games are played at once on local processes, or on the Ray cluster
    ``cluster`` (``runtime.cluster``). Game i depends only on its own seed, never on the worker
    that played it, and is written as soon as it finishes: an interrupted generation resumes
    with the missing games only.
    """
    from convsuite.common.progress import counter_bar

    if cluster in ("", "local"):  # a remote cluster's workers need GNU Go, not this machine
        gnugo_program()
    folder = selfplay_folder(data_cfg)
    folder.mkdir(parents=True, exist_ok=True)
    missing = [i for i in range(data_cfg.games) if not (folder / f"game_{i:05d}.sgf").exists()]
    if missing:
        jobs = [(data_cfg.board_size, data_cfg.komi, data_cfg.gnugo_level, data_cfg.random_opening,
                 seed * 1_000_003 + i) for i in missing]
        with _worker_pool(data_cfg, cluster, len(jobs)) as pool, \
                counter_bar(total=len(jobs), desc=f"GNU Go self-play ({data_cfg.board_size}x{data_cfg.board_size})",
                            unit="game", enabled=progress) as bar:
            for index, sgf in pool.imap_unordered(_generate_one, jobs):
                atomic_write_text(folder / f"game_{missing[index]:05d}.sgf", sgf)
                bar.update()
    return folder


# --------------------------------------------------------------------------- game sources


def gnugo_regression_archive(data_dir: str = "") -> Path:
    path = data_root(data_dir) / "go" / GNUGO_ARCHIVE
    if not path.exists():
        raise ConvsuiteError(f"{path} is missing; run scripts/setup.sh (it fetches GNU Go's source package "
                             f"through apt), or put {GNUGO_ARCHIVE} from `apt-get source --download-only gnugo` there")
    return path


def game_sources(data_cfg, seed: int = 0, progress: bool = True, cluster: str = "") -> list[Path]:
    source = data_cfg.source
    if source == "gnugo-selfplay":  # exactly data.games of them, whatever else the folder holds
        folder = generate_selfplay(data_cfg, seed, progress, cluster)
        return [folder / f"game_{i:05d}.sgf" for i in range(data_cfg.games)]
    if source == "gnugo-regression":
        return [gnugo_regression_archive(data_cfg.data_dir)]
    paths = [Path(p.strip()).expanduser() for p in source.split(",") if p.strip()]
    for path in paths:
        if not path.exists():
            raise ConvsuiteError(f"data.source {str(path)!r} does not exist; give SGF files, folders or .tar.gz/.zip "
                                 "archives of SGF games (comma-separated), or gnugo-selfplay / gnugo-regression")
    return paths


def random_opening_length(record: GameRecord) -> int:
    """Moves at the start of a self-play game that were random, not GNU Go's (from its GC)."""
    comment = " ".join(record.properties.get("GC", []))
    if comment.startswith("random opening moves:"):
        return int(comment.split(":")[1])
    return 0


def load_games(data_cfg, seed: int = 0, progress: bool = True,
               cluster: str = "") -> tuple[list[GameRecord], SkipLog]:
    """The games of ``data.source`` (self-play is generated first, on ``cluster`` if set)."""
    skip = SkipLog()
    games = []
    for game in iter_games(game_sources(data_cfg, seed, progress, cluster), size=data_cfg.board_size, skip=skip,
                           min_moves=data_cfg.min_moves):
        games.append(game)
        if data_cfg.max_games and len(games) >= data_cfg.max_games:
            break
    if not games:
        raise ConvsuiteError(f"no usable {data_cfg.board_size}x{data_cfg.board_size} games in {data_cfg.source!r} "
                             f"({skip.summary()}); check data.source and data.board_size")
    return games, skip


def split_games(games: list, test_fraction: float, validation_fraction: float, seed: int):
    """Game-level train / validation / test split, fixed by ``seed``."""
    order = np.random.default_rng([seed, 4099]).permutation(len(games))
    n_test = int(round(len(games) * test_fraction))
    n_val = int(round(len(games) * validation_fraction))
    if len(games) - n_test - n_val < 1 or (test_fraction > 0 and n_test < 1):
        raise ConvsuiteError(f"{len(games)} games are too few to split into train / validation / test "
                             f"({test_fraction} / {validation_fraction}); use more games (data.games or data.max_games)")
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return [games[i] for i in train], [games[i] for i in val], [games[i] for i in test]


# --------------------------------------------------------------------------- positions


@dataclass
class Positions:
    """Training examples cut from games: one per non-pass move.

    ``packed`` holds the (S, S, C) uint8 planes bit-packed, 8x smaller, as the models take
    them (``planes`` unpacks them all); ``moves`` the point played; ``results`` the
    game's result for the player to move (+1 won, -1 lost, 0 unknown or drawn);
    ``move_numbers`` the move's index in its game; ``legal_counts`` how many points were
    legal (the random-legal-move baseline's odds); ``games`` which game of the split."""

    size: int
    channels: int
    packed: np.ndarray
    moves: np.ndarray
    results: np.ndarray
    move_numbers: np.ndarray
    legal_counts: np.ndarray
    games: np.ndarray

    ARRAYS = ("packed", "moves", "results", "move_numbers", "legal_counts", "games")

    def __len__(self) -> int:
        return len(self.moves)

    @property
    def planes(self) -> np.ndarray:
        return unpack_planes(self.packed, self.size, self.channels)

    def subset(self, index) -> "Positions":
        return Positions(self.size, self.channels, *(getattr(self, f)[index] for f in self.ARRAYS))

    @classmethod
    def concatenate(cls, parts: list["Positions"], size: int, channels: int) -> "Positions":
        if not parts:
            return cls.empty(size, channels)
        offsets = np.cumsum([0] + [int(p.games.max(initial=-1)) + 1 for p in parts[:-1]])
        arrays = [np.concatenate([getattr(p, f) for p in parts]) for f in cls.ARRAYS[:-1]]
        games = np.concatenate([p.games + o for p, o in zip(parts, offsets)])
        return cls(size, channels, *arrays, games)

    @classmethod
    def empty(cls, size: int, channels: int) -> "Positions":
        nbytes = (size * size * channels + 7) // 8
        return cls(size, channels, np.zeros((0, nbytes), np.uint8), *(np.zeros(0, t) for t in
                   (np.int32, np.float32, np.int32, np.int32, np.int32)))


def game_positions(record: GameRecord, feature_set: str, skip_moves: int = 0) -> Positions:
    """Every non-pass move of a game (from move ``skip_moves`` on) as a position, in one batch:
    the game is replayed once on the incremental rules engine, which records each position's
    stones, stone ages and ko point, and ``features.batch_planes`` computes all its planes at
    once. ``games`` is 0 throughout (the caller numbers games)."""
    board = Board(record.size, record.komi, superko=False)
    if record.setup_black:
        board.place(record.setup_black, BLACK)
    if record.setup_white:
        board.place(record.setup_white, WHITE)
    n = board.num_points
    count = sum(1 for number, (_, move) in enumerate(record.moves) if move != PASS and number >= skip_moves)
    stones, ages = np.zeros((count, n), np.int8), np.zeros((count, n), np.int32)
    to_play, ko = np.zeros(count, np.int8), np.full(count, -1, np.int32)
    moves, numbers = np.zeros(count, np.int32), np.zeros(count, np.int32)
    row = 0
    for number, (color, move) in enumerate(record.moves):
        if move != PASS and number >= skip_moves:
            stones[row], ages[row] = board.stones, board.move_number - board.stone_age
            to_play[row], moves[row], numbers[row] = color, move, number
            if board.ko_point >= 0 and board._ko_color == color:
                ko[row] = board.ko_point
            row += 1
        board.play(move, color)
    channels = num_planes(feature_set)
    if not count:
        return Positions.empty(record.size, channels)
    planes, legal_counts = batch_planes(PositionBatch(record.size, stones, to_play, ages, ko), feature_set)
    return Positions(record.size, channels, pack_planes(planes), moves,
                     (record.winner * to_play).astype(np.float32), numbers, legal_counts.astype(np.int32),
                     np.zeros(count, np.int32))


def extract_positions(games: list[GameRecord], feature_set: str, size: int, skip_random_opening: bool = True,
                      per_game: int = 0, seed: int = 0, progress: bool = False, desc: str = "positions") -> Positions:
    """Cut every move of ``games`` into a Positions set (``per_game`` > 0: that many random
    positions per game, the value net's decorrelation)."""
    from convsuite.common.progress import counter_bar

    rng = np.random.default_rng([seed, 131])
    channels = num_planes(feature_set)
    parts = []
    for g, record in enumerate(counter_bar(games, desc=desc, unit="game", enabled=progress)):
        skip = random_opening_length(record) if skip_random_opening else 0
        positions = game_positions(record, feature_set, skip)
        if per_game and len(positions) > per_game:
            positions = positions.subset(np.sort(rng.choice(len(positions), per_game, replace=False)))
        if len(positions):
            positions.games[:] = g
            parts.append(positions)
    if not parts:
        return Positions.empty(size, channels)
    return Positions(size, channels, *(np.concatenate([getattr(p, f) for p in parts]) for f in Positions.ARRAYS))


def _cache_key(games: list[GameRecord], feature_set: str, per_game: int, seed: int) -> str:
    digest = hashlib.sha256()
    digest.update(f"{feature_set}|{per_game}|{seed}|v2".encode())
    for record in games:
        digest.update(record.name.encode())
        digest.update(np.asarray([m for _, m in record.moves], np.int16).tobytes())
    return digest.hexdigest()[:20]


def _shard(job: tuple) -> Positions:
    """Extract one shard of games; runs in a worker, the caller keeps the result."""
    games, feature_set, size, per_game, seed = job
    return extract_positions(games, feature_set, size, per_game=per_game, seed=seed)


def _load_shard(path: Path, size: int, channels: int) -> Positions | None:
    if not path.exists():
        return None
    try:
        with np.load(path) as f:
            return Positions(size, channels, *(f[name] for name in Positions.ARRAYS))
    except Exception:  # a damaged shard is rebuilt, never trusted
        path.unlink(missing_ok=True)
        return None


def _save_shard(path: Path, positions: Positions) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **{name: getattr(positions, name) for name in Positions.ARRAYS})
    atomic_write_bytes(path, buffer.getvalue())


def cached_positions(games: list[GameRecord], data_cfg, split: str, seed: int = 0, progress: bool = True,
                     cluster: str = "") -> Positions:
    """``extract_positions`` over shards of ``data.shard_games`` games, made ``data.workers`` at a
    time on local processes (or on the Ray cluster ``cluster``) and kept (bit-packed) under
    data/go/positions/: an interrupted extraction makes only the missing shards, and a rerun
    loads them all."""
    from convsuite.common.progress import counter_bar

    per_game = data_cfg.value_positions_per_game if split == "train" else 0
    size, channels = data_cfg.board_size, num_planes(data_cfg.feature_set)
    folder = data_root(data_cfg.data_dir) / "go" / "positions"
    folder.mkdir(parents=True, exist_ok=True)
    step = max(1, data_cfg.shard_games)
    parts: list[Positions | None] = []
    missing = []  # (slot in parts, shard file, job)
    with counter_bar(total=len(games), desc=f"{split} positions", unit="game", enabled=progress) as bar:
        for i in range(0, len(games), step):
            shard = games[i:i + step]
            path = folder / f"{split}-{_cache_key(shard, data_cfg.feature_set, per_game, seed + i)}.npz"
            part = _load_shard(path, size, channels)
            if part is None:
                missing.append((len(parts), path, (shard, data_cfg.feature_set, size, per_game, seed + i)))
            else:
                bar.update(len(shard))
            parts.append(part)
        if missing:
            with _worker_pool(data_cfg, cluster, len(missing)) as pool:
                for index, positions in pool.imap_unordered(_shard, [job for _, _, job in missing]):
                    slot, path, job = missing[index]
                    _save_shard(path, positions)
                    parts[slot] = positions
                    bar.update(len(job[0]))
    return Positions.concatenate(parts, size, channels)


def uniform_legal_baseline(positions: Positions, k: int = 1) -> float:
    """Expected top-k accuracy of picking k legal points uniformly at random."""
    if not len(positions):
        return float("nan")
    counts = np.maximum(positions.legal_counts, 1)
    return float(np.mean(np.minimum(k, counts) / counts))


def describe_games(games: list[GameRecord]) -> dict:
    lengths = [len(g.moves) for g in games]
    winners = [g.winner for g in games]
    return {"games": len(games), "mean_moves": float(np.mean(lengths)) if lengths else 0.0,
            "black_wins": int(sum(w == BLACK for w in winners)), "white_wins": int(sum(w == WHITE for w in winners))}


def read_sgf_file(path: str | Path) -> GameRecord:
    """The first game of one SGF file (for notebooks and tests)."""
    return read_game(parse_sgf(Path(path).read_text(errors="replace"))[0], name=str(path))



# --------------------------------------------------------------------------- datasets (`convsuite list`)

register_dataset(
    "gnugo-selfplay", "GNU Go self-play games, generated on the spot at data.board_size / data.gnugo_level "
    "(data.source=gnugo-selfplay, the default)", offline=True,
    how_to_get="install GNU Go (`apt-get install gnugo`; scripts/setup.sh does this)", suite="go")
register_dataset(
    "gnugo-regression", "~690 real 19x19 games from GNU Go's regression suite (data.source=gnugo-regression)",
    offline=False, how_to_get=f"scripts/setup.sh fetches GNU Go's source package through apt into "
    f"data/go/{GNUGO_ARCHIVE}", suite="go", loader=gnugo_regression_archive)
register_dataset(
    "sgf-collections", "your SGF games: files, folders or .tar.gz/.zip archives such as the Tygem or KGS "
    "collections (data.source=PATH[,PATH...])", offline=False,
    how_to_get="download a collection of SGF games and point data.source at it (see USER_DATA_HELP)", suite="go")

USER_DATA_HELP = (
    "Your own games: set data.source to SGF files, folders of them, or .tar.gz / .zip archives of them, "
    "comma-separated (e.g. a Tygem or KGS game collection as downloaded); games of other board sizes than "
    "data.board_size, shorter than data.min_moves or with illegal moves are skipped and counted, and "
    "data.max_games caps how many are read. Games are split by game (data.test_fraction, "
    "data.validation_fraction) with trainer.seed, so positions of one game never cross splits: "
    "`convsuite train go --set data.source=/path/to/kgs-2019.tar.gz --set data.board_size=19`, then "
    "`convsuite evaluate go --checkpoint runs/maddison-gnugo9`."
)
