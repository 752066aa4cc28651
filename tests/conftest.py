"""Settings for the whole test run: two pytest-xdist workers share the two cores.

The default run (`pyproject.toml` addopts) uses two xdist workers. Each worker (and every
process it starts: CLI runs, notebook kernels, distributed workers) then gets one intra-op
thread for TensorFlow and the BLAS libraries, so two workers do not fight over two cores.
The longest tests (notebooks) are collected first, so they do not start last and leave one
worker idle at the end.
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    for variable in ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

_FIRST = ("tests/notebooks/",)


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda item: not item.nodeid.startswith(_FIRST))
