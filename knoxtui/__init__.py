"""knoxtui: a keyboard-driven console for mutual-TLS APIs."""

__version__ = "0.1.0"
