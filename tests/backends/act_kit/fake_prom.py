"""Prometheus HTTP API and model-endpoint stand-in on loopback, driven by $GHA_FAKE_STATE/prom.json.

prom.json:
  {"gate": {"healthy": Q, "traffic": Q, "requests": Q},   the deploy job's queries, `placeholder` in them
   "placeholder": "__REVISION__",
   "revisions": {"<revision>": {"healthy": bool, "traffic": bool, "requests": n, "traffic_after_probe": bool}},
   "default": {...same keys...},                          for a query naming no known revision
   "smoke": "ok" | "fail"}
A query that equals a gate query with a revision's name in the placeholder answers for that revision
(`healthy`/`traffic`: one series when true, none when false; `requests`: the number), from
`revisions[name]` or else `default`; any other query answers nothing (a wrong query fails the gate). So the tests see exactly which revision the job asked about.
Other paths are the model endpoints behind the tag URLs: GET (the smoke test) answers 200 unless
`smoke` is `fail`; POST (the no-traffic probe) is counted, and after one, a revision with
`traffic_after_probe` has traffic. Every request is logged to prom-requests.jsonl.
"""
import json
import os
import re
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

STATE = os.environ.get("GHA_FAKE_STATE", "state")


def config():
    path = os.path.join(STATE, "prom.json")
    return json.load(open(path)) if os.path.exists(path) else {}


def probes():
    path = os.path.join(STATE, "probes.count")
    return int(open(path).read()) if os.path.exists(path) else 0


def answer(query, cfg):
    """(kind, the revision asked about or None, its behaviour) for a query of the gate."""
    placeholder = cfg.get("placeholder", "__REVISION__")
    for kind, template in cfg.get("gate", {}).items():
        if not template:
            continue
        pattern = "".join(re.escape(part) if i % 2 == 0 else "([a-z0-9-]+)"
                          for i, part in enumerate(re.split(f"({re.escape(placeholder)})", template)))
        match = re.fullmatch(pattern, query)
        if match:
            revision = match.group(1) if match.groups() else None
            return kind, revision, cfg.get("revisions", {}).get(revision, cfg.get("default", {}))
    return "unknown", None, {}


class Handler(BaseHTTPRequestHandler):
    def _log(self, **extra):
        with open(os.path.join(STATE, "prom-requests.jsonl"), "a") as fh:
            fh.write(json.dumps({"method": self.command, "path": self.path,
                                 "authorization": self.headers.get("Authorization"), **extra}) + "\n")

    def _send(self, code, body=b"{}"):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        cfg = config()
        if url.path != "/api/v1/query":
            self._log(kind="smoke")
            return self._send(503 if cfg.get("smoke") == "fail" else 200)
        query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
        kind, revision, rev = answer(query, cfg)
        self._log(kind=kind, revision=revision, query=query)
        if kind == "requests":
            result = [{"metric": {}, "value": [0, str(rev.get("requests", 0))]}]
        else:
            holds = rev.get(kind, False) or (kind == "traffic" and rev.get("traffic_after_probe") and probes() > 0)
            result = [{"metric": {}, "value": [0, "1"]}] if holds else []
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": result}}).encode()
        self._send(200, body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        count = probes() + 1
        with open(os.path.join(STATE, "probes.count"), "w") as fh:
            fh.write(str(count))
        self._log(kind="probe")
        self._send(200)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
