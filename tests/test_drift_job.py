"""The drift job (`python -m mlopsdsl.drift`) on real data: its statistics agree with scipy, it
reads KServe v0.20's request log as the logger writes it, reports drift on a shifted sample and
none on an unshifted one, pushes to a Pushgateway and dispatches a retrain naming its environment."""

from __future__ import annotations

import base64
import csv
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats as sp

from mlopsdsl.drift import data, job, stats

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
COLUMNS = ["tenure", "monthly_charges", "total_charges", "contract", "signup_date"]
CONTRACTS = ["month-to-month", "one-year", "two-year"]


# --- the statistics against scipy --------------------------------------------------------------
@pytest.mark.parametrize("seed,shift", [(1, 0.0), (2, 0.3), (3, 2.0)])
def test_ks_and_wasserstein_equal_scipy(seed, shift):
    rng = np.random.default_rng(seed)
    ref, cur = rng.normal(10, 3, 800), rng.normal(10 + shift * 3, 3, 500)
    assert stats.ks(ref, cur) == pytest.approx(sp.ks_2samp(ref, cur).statistic, abs=1e-12)
    sigma = np.std(ref)
    assert stats.wasserstein(ref, cur) == pytest.approx(sp.wasserstein_distance(ref / sigma, cur / sigma), rel=1e-9)
    discrete = rng.integers(0, 5, 300), rng.integers(1, 6, 200)  # ties on both sides
    assert stats.ks(*discrete) == pytest.approx(sp.ks_2samp(*discrete).statistic, abs=1e-12)


def test_chi2_is_cramers_v_of_scipys_statistic_and_psi_by_hand():
    ref = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    cur = ["a"] * 20 + ["b"] * 30 + ["c"] * 50
    table = np.array([[50, 30, 20], [20, 30, 50]])
    statistic = sp.chi2_contingency(table, correction=False)[0]
    assert stats.chi2(ref, cur, categorical=True) == pytest.approx(np.sqrt(statistic / 200))
    expected_psi = sum((q - p) * np.log(q / p) for p, q in ((0.5, 0.2), (0.3, 0.3), (0.2, 0.5)))
    assert stats.psi(ref, cur, categorical=True) == pytest.approx(expected_psi)
    assert stats.psi(ref, ref, categorical=True) == 0 and stats.chi2(ref, ref, categorical=True) == 0
    with pytest.raises(stats.StatsError):
        stats.ks(ref, cur, categorical=True)


# --- data as KServe v0.20's logger writes it ---------------------------------------------------
def churn_rows(n: int, seed: int, shifted: bool = False) -> list[dict]:
    rng = np.random.default_rng(seed)
    tenure = rng.normal(40 if shifted else 24, 10, n).clip(0, 72).round()
    charges = rng.normal(70, 20, n).round(2)
    contract = rng.choice(CONTRACTS, n, p=[0.2, 0.3, 0.5] if shifted else [0.55, 0.25, 0.2])
    start = datetime(2024, 1, 1)
    return [{"tenure": int(t), "monthly_charges": float(c), "total_charges": float(round(t * c, 2)),
             "contract": str(k), "signup_date": (start + timedelta(days=int(t) * 30)).isoformat()}
            for t, c, k in zip(tenure, charges, contract)]


def write_reference(path: Path, rows: list[dict]) -> None:
    pq.write_table(pa.Table.from_pylist(rows), path)


def log_request(body: dict, n: int, at: datetime, namespace: str = "ml-staging") -> dict:
    """One `LogRequest` as KServe's JSON marshaller stores it (pkg/logger/types.go)."""
    return {"url": f"http://churn-api-predictor.{namespace}/v2/models/churn-api/infer",
            "bytes": base64.b64encode(json.dumps(body).encode()).decode(), "contentType": "application/json",
            "reqType": "org.kubeflow.serving.inference.request", "id": f"req-{n:05d}",
            "sourceUri": "http://localhost:9081/", "inferenceService": "churn-api", "namespace": namespace,
            "component": "predictor", "endpoint": "", "occurrenceTime": at.isoformat().replace("+00:00", "Z")}


def v2_body(rows: list[dict]) -> dict:
    """An Open Inference Protocol request: one named input per column."""
    types = {"tenure": "INT64", "monthly_charges": "FP64", "total_charges": "FP64", "contract": "BYTES",
             "signup_date": "BYTES"}
    return {"inputs": [{"name": c, "shape": [len(rows)], "datatype": types[c], "data": [r[c] for r in rows]}
                       for c in COLUMNS]}


def write_request_log(root: Path, rows: list[dict], batch: int = 25, *, old: int = 0,
                      namespace: str = "ml-staging") -> Path:
    """Objects at <prefix>/<namespace>/<isvc>/<component>/<path>/<id>-request.json (store.go)."""
    prefix = root / "logs" / namespace / "churn-api" / "predictor" / "mlopsdsl"
    prefix.mkdir(parents=True)
    for i in range(0, len(rows), batch):
        at = NOW - timedelta(minutes=30 + i)
        records = [log_request(v2_body(rows[i:i + batch]), i, at, namespace)]
        (prefix / f"req-{i:05d}-request.json").write_text(json.dumps(records[0] if i % 2 else records))
    for k in range(old):  # a day-old request: outside the window, not read
        stale = log_request(v2_body(churn_rows(5, 99, shifted=True)), 90000 + k, NOW - timedelta(days=3))
        (prefix / f"old-{k}-request.json").write_text(json.dumps(stale))
    (prefix / "x-response.json").write_text(json.dumps(dict(log_request({"outputs": []}, 1, NOW),
                                                            reqType="org.kubeflow.serving.inference.response")))
    return root / "logs"


def test_request_log_records_decode_to_rows(tmp_path):
    rows = churn_rows(60, 5)
    log = write_request_log(tmp_path, rows, old=3)
    read = data.read_request_log(str(log), COLUMNS, since=NOW - timedelta(days=1))
    assert len(read) == 60 and read[0]["contract"] == rows[0]["contract"]
    assert len(data.read_request_log(str(log), COLUMNS)) == 75  # without a window the stale ones count
    v1 = {"instances": [[r[c] for c in COLUMNS] for r in rows[:3]]}
    assert data.body_rows(v1, COLUMNS) == rows[:3]
    matrix = {"inputs": [{"name": "input-0", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, 4]}]}
    assert data.body_rows(matrix, ["a", "b"]) == [{"a": 1, "b": 2}, {"a": 3, "b": 4}]
    event = {"specversion": "1.0", "type": "org.kubeflow.serving.inference.request", "id": "1",
             "source": "x", "data": {"instances": [{"tenure": 3}]}}
    assert data.body_rows(data.request_body(event), COLUMNS) == [{"tenure": 3}]


# --- the job end to end, as the CronJob runs it -------------------------------------------------
class Recorder(BaseHTTPRequestHandler):
    calls: list = []

    def _record(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.calls.append((self.command, self.path, dict(self.headers), body))
        self.send_response(204 if self.command == "POST" else 200)
        self.end_headers()

    do_PUT = do_POST = _record

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def server():
    Recorder.calls = []
    httpd = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", Recorder.calls
    httpd.shutdown()


def job_env(tmp_path: Path, url: str, current_rows: list[dict], **extra) -> dict:
    tmp_path.mkdir(exist_ok=True)
    write_reference(tmp_path / "reference.parquet", churn_rows(2000, 1))
    log = write_request_log(tmp_path / "current", current_rows)
    env = {"PROJECT": "churn", "NAMESPACE": "ml-staging", "SERVICE": "churn-api", "ENVIRONMENT": "staging",
           "METHOD": "psi", "THRESHOLD": "0.2", "FEATURES": "tenure,monthly_charges,contract",
           "FEATURE_TYPES": "tenure=int,monthly_charges=float,contract=category", "COLUMNS": ",".join(COLUMNS),
           "REFERENCE_URI": str(tmp_path / "reference.parquet"), "REFERENCE_FORMAT": "parquet",
           "REQUEST_LOG_URI": str(log), "REQUEST_LOG_WINDOW": str(10 ** 9), "PUSHGATEWAY_URL": url,
           "PUSHGATEWAY_JOB": "mlopsdsl-drift", "METRIC_NAME": "mlopsdsl_drift_score", "ON_DRIFT": "retrain",
           "DISPATCH_EVENT_TYPE": "mlopsdsl-retrain-churn", "GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "acme/churn",
           "GITHUB_API_URL": url, "PATH": os.environ["PATH"]}
    env.update(extra)
    return env


def run_job(env: dict) -> tuple[int, dict | None, str]:
    result = subprocess.run([sys.executable, "-m", "mlopsdsl.drift"], env=env, capture_output=True, text=True)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else None, result.stderr


def test_a_shifted_sample_is_drift_pushed_and_retrains_where_it_drifted(tmp_path, server):
    url, calls = server
    code, report, err = run_job(job_env(tmp_path, url, churn_rows(800, 7, shifted=True)))
    assert code == 0, err
    assert report["verdict"] == "drift" and report["drifted"] == ["contract", "tenure"]
    assert report["scores"]["monthly_charges"] < 0.1 < 0.2 < report["scores"]["tenure"]
    (put, path, _, body), (post, dispatch_path, headers, payload) = calls
    assert put == "PUT" and path == "/metrics/job/mlopsdsl-drift/namespace/ml-staging/project/churn"
    assert 'mlopsdsl_drift_score{feature="tenure",method="psi"}' in body
    assert "mlopsdsl_drift_last_run_timestamp_seconds" in body
    assert post == "POST" and dispatch_path == "/repos/acme/churn/dispatches"
    assert headers["Authorization"] == "Bearer t0ken"
    sent = json.loads(payload)
    assert sent["event_type"] == "mlopsdsl-retrain-churn" and sent["client_payload"]["environment"] == "staging"


def test_an_unshifted_sample_is_no_drift_and_dispatches_nothing(tmp_path, server):
    url, calls = server
    code, report, err = run_job(job_env(tmp_path, url, churn_rows(800, 8)))
    assert code == 0, err
    assert report["verdict"] == "no drift" and report["drifted"] == []
    assert max(report["scores"].values()) < 0.1
    assert [c[0] for c in calls] == ["PUT"]  # scores pushed, no retrain


@pytest.mark.parametrize("method,threshold", [("ks", "0.1"), ("wasserstein", "0.3"), ("chi2", "0.1")])
def test_every_method_tells_shifted_from_unshifted(tmp_path, server, method, threshold):
    url, _ = server
    features = {"FEATURES": "tenure,monthly_charges", "METHOD": method, "THRESHOLD": threshold, "ON_DRIFT": "alert"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, shifted, err = run_job(job_env(tmp_path / "a", url, churn_rows(800, 7, shifted=True), **features))
    _, same, _ = run_job(job_env(tmp_path / "b", url, churn_rows(800, 8), **features))
    assert shifted["drifted"] == ["tenure"], (shifted, err)
    assert same["drifted"] == []


def test_too_few_rows_is_no_verdict_and_a_bad_config_fails(tmp_path, server):
    url, calls = server
    code, report, _ = run_job(job_env(tmp_path, url, churn_rows(10, 3), MIN_ROWS="50"))
    assert code == 0 and report["verdict"] == "too few current rows to judge" and calls == []
    code, _, err = run_job({"PATH": os.environ["PATH"], "PROJECT": "churn"})
    assert code == 1 and "missing" in err and "Traceback" not in err
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    code, _, err = run_job(job_env(tmp_path / "again", url, churn_rows(60, 3),
                                   REFERENCE_URI=str(tmp_path / "broken.parquet")))
    assert code == 1 and "cannot read as parquet" in err and "Traceback" not in err


def test_a_declared_current_source_and_the_cli_flags(tmp_path, capsys):
    write_reference(tmp_path / "ref.parquet", churn_rows(500, 1))
    (tmp_path / "live.csv").write_text("tenure,contract\n" + "".join(
        f"{r['tenure']},{r['contract']}\n" for r in churn_rows(300, 2, shifted=True)))
    from mlopsdsl.drift.__main__ import main
    code = main(["--project", "churn", "--method", "chi2", "--threshold", "0.1", "--features", "tenure,contract",
                 "--feature-types", "tenure=int,contract=category", "--reference", str(tmp_path / "ref.parquet"),
                 "--current", str(tmp_path / "live.csv"), "--no-push"], environ={})
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["drifted"] == ["contract", "tenure"] and report["rows"] == {"reference": 500, "current": 300}
    assert job.Config.from_env({"PROJECT": "p", "METHOD": "psi", "THRESHOLD": "1", "FEATURES": "a",
                                "REFERENCE_URI": "r", "CURRENT_URI": "c"}).current.uri == "c"


def write_file(path: Path, rows: list[dict]) -> Path:
    """A Parquet or CSV file of the rows, by the path's suffix."""
    if path.suffix == ".parquet":
        write_reference(path, rows)
    else:
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return path


@pytest.mark.parametrize("reference,current", [("parquet", "csv"), ("csv", "parquet"), ("csv", "csv")])
def test_files_of_either_format_shifted_is_drift_unshifted_is_not(tmp_path, capsys, reference, current):
    from mlopsdsl.drift.__main__ import main

    ref = write_file(tmp_path / f"reference.{reference}", churn_rows(1000, 1))
    verdicts = {}
    for name, rows in (("shifted", churn_rows(400, 7, shifted=True)), ("same", churn_rows(400, 8))):
        live = write_file(tmp_path / f"{name}.{current}", rows)
        code = main(["--project", "churn", "--method", "psi", "--threshold", "0.2",
                     "--features", "tenure,monthly_charges,contract",
                     "--feature-types", "tenure=int,monthly_charges=float,contract=category",
                     "--reference", str(ref), "--current", str(live), "--no-push"], environ={})
        assert code == 0
        verdicts[name] = json.loads(capsys.readouterr().out)
    assert verdicts["shifted"]["verdict"] == "drift" and verdicts["shifted"]["drifted"] == ["contract", "tenure"]
    assert verdicts["same"]["verdict"] == "no drift" and verdicts["same"]["drifted"] == []
    assert verdicts["shifted"]["rows"] == verdicts["same"]["rows"] == {"reference": 1000, "current": 400}
