"""Tests up the kinetic chain (issue 13): squat symmetry, knee-to-wall, sit-to-stand, limits of
stability. Pure functions of board signals (time s, vertical force N, COP mm); one module per test,
each measure with its units and reference in its docstring (docs/CHAIN_TESTS.md)."""
