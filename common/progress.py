"""Progress of a whole run, with the time left for the run (not only for the epoch).

On a terminal: one self-redrawing line (a bar, the position, the latest metrics, the run's
ETA). Anywhere else (a log file, a pipe, a notebook cell's captured output): no control codes,
one plain line per report, e.g. ``epoch 3/30  loss 0.2140  accuracy 0.9370  12.1s  elapsed
36s  ETA 5m27s``.
"""

from __future__ import annotations

import sys
import time


def format_duration(seconds: float | None) -> str:
    """``1h02m``, ``5m27s``, ``36s``; ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def format_metrics(values: dict, limit: int = 8) -> str:
    parts = []
    for key, value in list(values.items())[:limit]:
        if isinstance(value, float):
            parts.append(f"{key} {value:.4g}" if abs(value) >= 1e4 or (value and abs(value) < 1e-3)
                         else f"{key} {value:.4f}")
        else:
            parts.append(f"{key} {value}")
    return "  ".join(parts)


def is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def counter_bar(iterable=None, *, enabled: bool = True, **kwargs):
    """A tqdm bar for counted work (games played, shards extracted): drawn only on a terminal,
    so a log file or pipe gets no control codes; ``enabled=False`` hides it everywhere."""
    from tqdm import tqdm

    kwargs.setdefault("file", sys.stderr)
    return tqdm(iterable, disable=None if enabled else True, **kwargs)


class Progress:
    """Steps done out of a run's ``total`` steps, and the time left for the whole run.

    ``update`` redraws the bar (terminal only, at most every ``min_interval`` seconds);
    ``report`` prints one line with the metrics, the time since the last report, the elapsed
    time and the run's ETA (terminal or not). ``bar=False`` prints report lines only.
    """

    def __init__(self, total: int, done: int = 0, *, bar: bool = True, stream=None, min_interval: float = 0.1,
                 width: int = 24):
        self.total, self.done = int(total), int(done)
        self._stream = stream
        self.bar = bool(bar) and is_terminal(self.stream)
        self.min_interval, self.width = min_interval, width
        self.start_done = self.done
        self.started = self.last_report = time.perf_counter()
        self._drawn = 0.0
        self._line_length = 0

    @property
    def stream(self):
        return self._stream if self._stream is not None else sys.stdout  # sys.stdout may be redirected later

    def eta(self) -> float | None:
        """Seconds left for the run at the rate of the steps done by this process."""
        steps = self.done - self.start_done
        if steps <= 0:
            return None
        rate = steps / max(time.perf_counter() - self.started, 1e-9)
        return max(0, self.total - self.done) / rate

    def update(self, done: int, text: str = "") -> None:
        self.done = int(done)
        if not self.bar:
            return
        now = time.perf_counter()
        if now - self._drawn < self.min_interval and self.done < self.total:
            return
        self._drawn = now
        filled = int(self.width * min(1.0, self.done / max(self.total, 1)))
        line = (f"[{'=' * filled}{'.' * (self.width - filled)}] {text}  run ETA {format_duration(self.eta())}")
        self._write("\r" + line + " " * max(0, self._line_length - len(line)))
        self._line_length = len(line)

    def report(self, head: str, metrics: dict | None = None, done: int | None = None) -> str:
        """Print (and return) one plain line: ``head``, metrics, interval, elapsed, run ETA."""
        if done is not None:
            self.done = int(done)
        now = time.perf_counter()
        line = "  ".join(part for part in (
            head, format_metrics(metrics or {}), f"{now - self.last_report:.1f}s",
            f"elapsed {format_duration(now - self.started)}",
            f"ETA {format_duration(self.eta()) if self.done < self.total else '0s'}") if part)
        self.last_report = now
        if self.bar and self._line_length:
            self._write("\r" + " " * self._line_length + "\r")
            self._line_length = 0
        self._write(line + "\n")
        return line

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
