"""Packages the README's set-up installs: a test that needs one fails when it is missing
(with how to install it) instead of skipping, so a missing install step cannot pass unseen."""

import importlib

import pytest


def require(module: str, extra: str = "dev"):
    """Import ``module`` or fail the test saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        pytest.fail(f"{module} is not installed ({error}); run scripts/setup.sh "
                    f"(it installs convsuite[{extra}] and the other extras into .venv/)")
