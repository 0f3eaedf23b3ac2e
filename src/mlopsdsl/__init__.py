"""mlopsdsl: one declarative spec for a model's whole life, checked like a program."""

__version__ = "0.1.0"
