"""One worker pool for embarrassingly parallel work: self-play games, co-evolution matches,
library screening, environment rollouts.

Local processes by default (forkserver where the platform has it, else spawn: a parent that
has already started TensorFlow or threads is never forked). When ``runtime.cluster`` is set,
Ray runs the items instead: ``"local"`` starts a private Ray instance on this machine,
``"auto"`` or ``host:port`` joins a running cluster. Ray does all the networking and
scheduling; this module only submits items, keeps a bounded number in flight and hands the
results back.

A worker gets nothing but ``fn(item)``: no worker id, no shared random state. An item that
carries its own seed therefore gives the same result inline, on local processes and on any
cluster, whatever worker runs it and whatever order the items finish in.

    with WorkerPool(workers=4) as pool:
        games = pool.map(play_game, seeds, progress=True, desc="self-play")
        for index, result in pool.imap_unordered(score, molecules):
            ...
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from convsuite.common.errors import ConvsuiteError

INSTALL_RAY = 'pip install "convsuite[cluster]"'


def available_cpus() -> int:
    """CPUs this process may run on (the affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _apply(fn: Callable, item: Any) -> Any:
    return fn(item)


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _describe(item: Any, limit: int = 80) -> str:
    text = repr(item)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _failure(fn: Callable, index: int, item: Any, error: BaseException) -> ConvsuiteError:
    """The error the caller sees: a worker's own ConvsuiteError as it is, anything else named."""
    if isinstance(error, ConvsuiteError):
        return error
    return ConvsuiteError(f"{_name(fn)} failed on item {index} ({_describe(item)}): "
                          f"{type(error).__name__}: {error}")


class WorkerPool:
    """Runs ``fn(item)`` for many items in parallel; use it as a context manager.

    Args:
        workers: items run at once. 0 = every CPU of this machine (with a cluster: as many as
            the cluster schedules); 1 without a cluster runs the items inline in this process,
            in order, which is the easiest to debug.
        cluster: "" = local processes; "local" = start a local Ray instance with ``workers``
            CPUs; "auto" or ``host:port`` = join that Ray cluster.
    """

    def __init__(self, workers: int = 0, cluster: str = ""):
        if workers < 0:
            raise ConvsuiteError(f"workers must be 0 (all cores) or more, got {workers}")
        self.workers = workers
        self.cluster = (cluster or "").strip()
        self._executor: ProcessPoolExecutor | None = None
        self._ray = None
        self._started_ray = False

    @property
    def backend(self) -> str:
        """"inline", "processes" or "ray"."""
        if self.cluster:
            return "ray"
        return "inline" if self.workers == 1 else "processes"

    def __enter__(self) -> "WorkerPool":
        if self.backend == "ray":
            self._connect_ray()  # a missing Ray or an unreachable cluster fails before any work
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Stops the worker processes, and the Ray instance if this pool started it."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._ray is not None and self._started_ray:
            self._ray.shutdown()
        self._ray, self._started_ray = None, False

    # ----------------------------------------------------------------- iteration

    def map(self, fn: Callable, items: Sequence, progress: bool = False, desc: str = "", unit: str = "item") -> list:
        """``[fn(item) for item in items]`` in parallel, in item order, with an optional progress bar."""
        from convsuite.common.progress import counter_bar

        items = list(items)
        results: list = [None] * len(items)
        with counter_bar(total=len(items), desc=desc or _name(fn), unit=unit, enabled=progress) as bar:
            for index, result in self.imap_unordered(fn, items):
                results[index] = result
                bar.update()
        return results

    def imap_unordered(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        """Yields ``(index, fn(items[index]))`` as each item finishes. ``items`` may be any
        iterable (it is read lazily, a bounded number of items ahead)."""
        backend = self.backend
        if backend == "inline":
            for index, item in enumerate(items):
                try:
                    result = fn(item)
                except Exception as error:
                    failure = _failure(fn, index, item, error)
                    if failure is error:
                        raise
                    raise failure from error
                yield index, result
        elif backend == "processes":
            yield from self._imap_processes(fn, items)
        else:
            yield from self._imap_ray(fn, items)

    def _imap_processes(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        try:
            pickle.dumps(fn)
        except Exception as error:
            raise ConvsuiteError(f"{_name(fn)} cannot be sent to worker processes ({error}); pass a function "
                                 "defined at the top level of a module") from error
        workers = self.workers or available_cpus()
        if self._executor is None:
            start_method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
            # processes start on demand, so a few items start only a few processes
            self._executor = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(start_method))
        executor = self._executor

        def submit(item):
            return executor.submit(fn, item)

        def finish(future):
            return future.result()

        def broken(index, item, error):
            if isinstance(error, BrokenProcessPool):
                executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None  # unusable now; the next call starts fresh processes
                return ConvsuiteError(f"a worker process died while running {_name(fn)} on item {index} "
                                      f"({_describe(item)}); it ran out of memory or crashed in native code")
            return _failure(fn, index, item, error)

        def cancel(futures):
            for future in futures:
                future.cancel()

        def first_done(futures):
            return wait(futures, return_when=FIRST_COMPLETED).done

        yield from _bounded(items, 2 * workers, submit, first_done, finish, broken, cancel)

    def _imap_ray(self, fn: Callable, items: Iterable) -> Iterator[tuple[int, Any]]:
        ray = self._connect_ray()
        remote = ray.remote(_apply)
        if self.workers:
            in_flight = self.workers
        else:
            in_flight = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        fn_ref = ray.put(fn)

        def submit(item):
            return remote.remote(fn_ref, item)

        def finish(ref):
            return ray.get(ref)

        def broken(index, item, error):
            if isinstance(error, ray.exceptions.RayTaskError) and error.cause is not None:
                return _failure(fn, index, item, error.cause)
            if isinstance(error, ray.exceptions.RayError):
                return ConvsuiteError(f"Ray lost {_name(fn)} on item {index} ({_describe(item)}): "
                                      f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}")
            return _failure(fn, index, item, error)

        def cancel(refs):
            for ref in refs:
                ray.cancel(ref)

        def first_done(refs):
            return ray.wait(list(refs), num_returns=1)[0]

        yield from _bounded(items, in_flight, submit, first_done, finish, broken, cancel)

    # ----------------------------------------------------------------- Ray

    def _connect_ray(self):
        if self._ray is not None:
            return self._ray
        try:
            import ray
        except ImportError as error:
            raise ConvsuiteError(f"runtime.cluster={self.cluster!r} needs Ray, which is not installed; install it "
                                 f"with {INSTALL_RAY}, or set runtime.cluster=\"\" for local processes") from error
        if not ray.is_initialized():  # else: the caller's own Ray connection is used and left open
            try:
                if self.cluster == "local":
                    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
                    ray.init(address="local", num_cpus=self.workers or None, include_dashboard=False,
                             _node_ip_address="127.0.0.1", logging_level=logging.WARNING, log_to_driver=True)
                else:
                    ray.init(address=self.cluster, logging_level=logging.WARNING)
            except Exception as error:
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                raise ConvsuiteError(f"cannot start or join the Ray cluster runtime.cluster={self.cluster!r} "
                                     f"({reason}); start one with `ray start --head`, use runtime.cluster=local "
                                     "for a private one on this machine, or \"\" for local processes") from error
            self._started_ray = True
        self._ray = ray
        return ray


def _bounded(items: Iterable, in_flight: int, submit, first_done, finish, broken, cancel) -> Iterator[tuple[int, Any]]:
    """Keeps at most ``in_flight`` items submitted and yields each as it finishes. On an error,
    or when the caller stops early, the items not started yet are cancelled."""
    source = enumerate(items)
    pending: dict[Any, tuple[int, Any]] = {}
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < max(1, in_flight):
                try:
                    index, item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending[submit(item)] = (index, item)
            if not pending:
                return
            for handle in first_done(pending.keys()):
                index, item = pending.pop(handle)
                try:
                    result = finish(handle)
                except Exception as error:
                    failure = broken(index, item, error)
                    if failure is error:
                        raise
                    raise failure from error
                yield index, result
    finally:
        if pending:
            cancel(list(pending))
