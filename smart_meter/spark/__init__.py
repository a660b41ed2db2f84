"""Spark helpers shared by the batch and training jobs."""
