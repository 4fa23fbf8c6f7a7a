"""Pair features, scoring, explanations, rules, solvers and analytics. No HTTP, SQL or files."""
