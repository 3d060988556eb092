"""Earful: social listening for incidents, as a Kafka pipeline."""

__all__ = ["__version__"]

__version__ = "0.1.0"
