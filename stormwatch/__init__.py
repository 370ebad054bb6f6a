"""stormwatch: early warning for negative social-media firestorms."""

__version__ = "0.1.0"
