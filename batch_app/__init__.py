"""Spark batch jobs (energy aggregates, completeness, estimation)."""
