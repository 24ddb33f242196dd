"""The package's version, in a module of its own so any layer (the CLI's `--version`) can read it."""

__version__ = "0.1.0"
