"""The streaming app: consume, validate, store, alert."""
