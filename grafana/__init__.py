"""Provisioned Grafana dashboards of the platform, generated from code (see README.md)."""
