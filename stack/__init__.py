"""The local stack: real servers started, checked and stopped by the project."""
