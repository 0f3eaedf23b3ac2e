"""Shared MLOps tools (the `ghcr.io/acme/mlops-tools` image): `python -m mlops_tools.register`."""
