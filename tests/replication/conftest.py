"""Replication tests use the three-region fixture of tests/conftest.py."""

from tests.regions import NAMES, Converge, Regions, converge

__all__ = ["NAMES", "Converge", "Regions", "converge"]
