"""Worker pool: the same seeds give the same results inline, on local processes and on a local
Ray instance; a failing item is named in one clear error; a missing Ray says how to install it."""

import sys

import numpy as np
import pytest

from convsuite.common.errors import ConvsuiteError
from convsuite.common.pool import WorkerPool

SEEDS = list(range(100, 112))


def draw(seed: int) -> list[int]:
    """Results that depend only on the item's seed (plus some work so items finish out of order)."""
    rng = np.random.default_rng(seed)
    rng.standard_normal(int(rng.integers(1, 200_000)))
    return rng.integers(0, 10**9, 4).tolist()


def fail_on_five(seed: int) -> int:
    if seed == 5:
        raise ValueError("seed five is unlucky")
    return seed


def refuse_on_two(seed: int) -> int:
    if seed == 2:
        raise ConvsuiteError("item two needs a GNU Go that is not installed")
    return seed


def import_ray():
    """scripts/setup.sh installs Ray (the cluster extra), so its absence is a failure, not a skip."""
    try:
        import ray
    except ImportError:
        pytest.fail('Ray is not installed; run scripts/setup.sh or pip install "convsuite[cluster]"')
    return ray


def expected() -> list[list[int]]:
    return [draw(seed) for seed in SEEDS]


def test_local_processes_give_the_same_results_as_inline_for_the_same_seeds():
    with WorkerPool(workers=1) as inline:
        assert inline.backend == "inline"
        inline_results = inline.map(draw, SEEDS)
    with WorkerPool(workers=2) as pool:
        assert pool.backend == "processes"
        process_results = pool.map(draw, SEEDS)
        unordered = list(pool.imap_unordered(draw, iter(SEEDS)))  # a plain iterator is read lazily
    assert inline_results == process_results == expected()
    assert sorted(index for index, _ in unordered) == list(range(len(SEEDS)))
    assert all(result == inline_results[index] for index, result in unordered)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_item_is_one_error_naming_it(workers):
    with WorkerPool(workers) as pool:
        with pytest.raises(ConvsuiteError, match=r"fail_on_five failed on item 5 \(5\): ValueError: seed five"):
            pool.map(fail_on_five, range(8))
        # a worker's own ConvsuiteError reaches the caller unchanged
        with pytest.raises(ConvsuiteError, match="^item two needs a GNU Go that is not installed$"):
            pool.map(refuse_on_two, range(4))
        assert pool.map(fail_on_five, [1, 2]) == [1, 2]  # the pool still works after a failure


def test_a_function_worker_processes_cannot_import_is_refused_before_any_work():
    with WorkerPool(2) as pool, pytest.raises(ConvsuiteError, match="top level of a module"):
        pool.map(lambda seed: seed, [1, 2])


def test_negative_workers_are_refused():
    with pytest.raises(ConvsuiteError, match="workers must be 0"):
        WorkerPool(workers=-1)


def test_a_cluster_without_ray_installed_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ConvsuiteError, match=r'needs Ray, which is not installed; install it with pip install "convsuite\[cluster\]"'):
        with WorkerPool(2, cluster="auto"):
            pass


def test_an_unreachable_cluster_is_one_clear_error(monkeypatch):
    ray = import_ray()

    def unreachable(*args, **kwargs):
        raise ConnectionError("Could not find any running Ray instance.\nPlease specify the address.")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", unreachable)
    with pytest.raises(ConvsuiteError, match=r"cannot start or join the Ray cluster runtime.cluster='10.1.2.3:6379' "
                                             r"\(Could not find any running Ray instance.\); start one"):
        with WorkerPool(2, cluster="10.1.2.3:6379"):
            pass


@pytest.fixture(scope="module")
def local_ray_pool():
    """One private Ray instance (2 CPUs, loopback only, no dashboard) for the module: it takes seconds to start."""
    import_ray()
    with WorkerPool(workers=2, cluster="local") as pool:
        yield pool


def test_local_ray_gives_the_same_results_as_local_processes_for_the_same_seeds(local_ray_pool):
    ray = import_ray()
    assert local_ray_pool.backend == "ray" and ray.cluster_resources()["CPU"] == 2
    with WorkerPool(workers=2) as processes:
        process_results = processes.map(draw, SEEDS)
    assert local_ray_pool.map(draw, SEEDS) == process_results == expected()
    unordered = dict(local_ray_pool.imap_unordered(draw, SEEDS))
    assert [unordered[i] for i in range(len(SEEDS))] == process_results
    with pytest.raises(ConvsuiteError, match=r"fail_on_five failed on item 5 \(5\): ValueError: seed five"):
        local_ray_pool.map(fail_on_five, range(8))
    with pytest.raises(ConvsuiteError, match="^item two needs a GNU Go that is not installed$"):
        local_ray_pool.map(refuse_on_two, range(4))
