"""encounter: command-line administration for an outpatient clinic."""

__version__ = "0.1.0"
