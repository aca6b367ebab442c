"""focusq: a personal work orchestrator for the terminal."""

__version__ = "0.1.0"
