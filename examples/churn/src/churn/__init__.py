"""Customer churn: the step programs of examples/churn/churn.yaml (`python -m churn.STEP`)."""
