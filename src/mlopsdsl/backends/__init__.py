"""Compile targets. Built-ins register through the same entry-point group as plugins."""
