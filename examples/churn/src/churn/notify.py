"""The exit handler: say how the pipeline ended, on Slack when SLACK_WEBHOOK_URL is set.

It runs whether the pipeline succeeded or failed, so it must not depend on any step's output.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.request


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pipeline", required=True)
    args = ap.parse_args()
    text = f"pipeline {args.pipeline} finished"
    webhook = os.environ.get("SLACK_WEBHOOK_URL")
    if not webhook:
        print(f"notify: {text} (SLACK_WEBHOOK_URL is not set; not posting)")
        return
    request = urllib.request.Request(webhook, data=json.dumps({"text": text}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        print(f"notify: posted to Slack ({response.status})")


if __name__ == "__main__":
    main()
