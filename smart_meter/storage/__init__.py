"""Cassandra: schema and sessions shared by every service."""
