"""Published figures the code uses, each in one table with its source.

Every clinical or normative number that the software compares against (reference values of
sway measures, screening cut-offs, effect sizes) lives in a module of this package, never
inline in the code that uses it: one row per figure, with the condition it was measured in,
the processing settings of the source where known, the citation and an evidence tag as in
science.md ([V] checked against the source, [S] secondary source, [U] unverified, [D] derived).

Modules: ``sway_reference`` (single-leg stance sway: healthy values, CAI effect sizes,
trial-to-trial error). Import the module you need; this package imports none of them.
"""
