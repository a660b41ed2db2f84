"""The streaming app's runtime (placeholder docstring, rewritten below)."""
