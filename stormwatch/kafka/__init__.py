"""The Kafka runtime: produce, the worker, its checkpoints and changelog, Kafka settings.

Everything that talks to a broker lives here; no Kafka record type leaves this package.
"""
