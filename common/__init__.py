"""Shared, domain-free machinery of convsuite: blocks, config, trainer, data, analysis."""

from convsuite.common.errors import ConvsuiteError

__all__ = ["ConvsuiteError"]
