"""House-price regression: the step programs of examples/minimal/minimal.yaml."""
