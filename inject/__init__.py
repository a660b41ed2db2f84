"""Readings into the platform: fleet simulator, publisher, replay, load, Kafka bridge."""
