"""Credential rules the schema cannot say.

Secrets are referenced by name everywhere (`${{ secrets.NAME[.KEY] }}`); the type checker judges
each reference's shape (MLD610). What is left here is which credentials may be given together.
"""

from __future__ import annotations

from mlopsdsl.check.context import CheckContext
from mlopsdsl.diagnostics import codes


def check_credentials(ctx: CheckContext) -> None:
    mlflow = ctx.section("tracking").get("mlflow")
    if isinstance(mlflow, dict) and "token" in mlflow and ("username" in mlflow or "password" in mlflow):
        # MLflow's rest_utils sends basic auth when a username and password are set and only then
        # falls back to MLFLOW_TRACKING_TOKEN: a token given beside them would never be used.
        ctx.error(codes.MLFLOW_CREDENTIALS, "`tracking.mlflow` gives a `token` and a username/password; MLflow "
                  "would send the username and password and ignore the token", ("tracking", "mlflow", "token"),
                  hint="keep `token` (bearer) or `username` and `password` (basic auth), not both")
