"""pytest-carbon: energy and CO2eq of every test, budgets as test failures."""

__version__ = "0.1.0"
