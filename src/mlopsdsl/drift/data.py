"""Reading the two samples: a table (reference, or a declared `current:` source) and KServe's request log.

Tables are CSV, Parquet, JSON lines or a JSON array of objects, from a local path or
any fsspec URL (`s3://`, `gs://`, `https://`; credentials from the environment, i.e.
the Secrets the CronJob mounts), or a DVC-tracked file (`dvc get REPO PATH --rev REV`).
A directory (or prefix) is read file by file and concatenated.

The request log is what KServe v0.20's payload logger writes to blob storage
(`logger: {url: s3://bucket/prefix, storage: {path, parameters: {format: json}}}`): one
object per batch at `<prefix>/<namespace>/<isvc>/<component>/<path>/<id>-<type>.json`,
each a JSON `LogRequest` (or an array of them, batchSize > 1) whose `bytes` field is the
base64 of the request body, `reqType` `org.kubeflow.serving.inference.request` (also
written `request`), `occurrenceTime` RFC 3339 (kserve/kserve@v0.20.0:
pkg/logger/types.go, store.go, marshaller_json.go; test/e2e/logger/format_verifiers.py).
A structured-mode CloudEvent (`{"specversion", "type", "data" | "data_base64"}`), as a
sink of the logger's HTTP mode would store it, is read too. Bodies are V1
(`{"instances": [...]}`, rows as objects or as lists in `columns` order) or Open
Inference Protocol (`{"inputs": [{"name", "shape", "datatype", "data"}]}`: one input per
column, or one [n, k] input in `columns` order).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import tempfile
from datetime import datetime, timezone
from typing import Any, Iterable

Columns = dict[str, list]
REQUEST_TYPES = ("org.kubeflow.serving.inference.request", "request")


class DataError(ValueError):
    """A sample cannot be read: the message says which and why."""


# -- files ---------------------------------------------------------------------------------------

def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0] if "://" in uri else "file"


def _filesystem(uri: str):
    if _scheme(uri) == "file":
        return None
    try:
        import fsspec
    except ImportError:
        raise DataError(f"reading {uri} needs fsspec (pip install 'mlopsdsl[drift]')") from None
    return fsspec.filesystem(_scheme(uri))


def list_files(uri: str) -> list[str]:
    """The files under `uri` (itself when it is a file), sorted."""
    fs = _filesystem(uri)
    if fs is None:
        path = uri[len("file://"):] if uri.startswith("file://") else uri
        if os.path.isdir(path):
            return sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files)
        if not os.path.exists(path):
            raise DataError(f"{uri}: no such file or directory")
        return [path]
    found = [f"{_scheme(uri)}://{p}" for p in fs.find(uri)] if fs.isdir(uri) else [uri]
    if not found:
        raise DataError(f"{uri}: nothing there")
    return sorted(found)


def read_bytes(uri: str) -> bytes:
    fs = _filesystem(uri)
    try:
        if fs is None:
            with open(uri[len("file://"):] if uri.startswith("file://") else uri, "rb") as handle:
                return handle.read()
        with fs.open(uri, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise DataError(f"{uri}: {exc}") from None


def _format(path: str, declared: str | None) -> str:
    if declared:
        return declared.lower()
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    return {"jsonl": "json", "ndjson": "json", "pq": "parquet"}.get(ext, ext or "csv")


def parse_table(data: bytes, fmt: str, where: str) -> list[dict[str, Any]]:
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise DataError(f"{where}: reading Parquet needs pyarrow (pip install 'mlopsdsl[drift]')") from None
        # One thread: a pool still alive at interpreter exit can abort the process (std::terminate).
        return pq.read_table(io.BytesIO(data), use_threads=False).to_pylist()
    text = data.decode("utf-8")
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    if fmt == "json":
        stripped = text.lstrip()
        if stripped.startswith("["):
            return list(json.loads(stripped))
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    raise DataError(f"{where}: unknown format '{fmt}' (csv, parquet or json)")


def read_table(uri: str, fmt: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in list_files(uri):
        try:
            rows += parse_table(read_bytes(path), _format(path, fmt), path)
        except (ValueError, UnicodeDecodeError) as exc:  # json, csv, pyarrow.ArrowInvalid
            raise DataError(f"{path}: cannot read as {_format(path, fmt)}: {exc}") from None
    return rows


def dvc_get(repo: str, path: str, rev: str | None) -> str:
    """Fetch a DVC-tracked file into a temporary file; returns its path."""
    out = os.path.join(tempfile.mkdtemp(prefix="mlopsdsl-drift-"), os.path.basename(path) or "data")
    command = ["dvc", "get", repo, path, "-o", out] + (["--rev", rev] if rev else [])
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise DataError("a DVC source needs the `dvc` command in the image") from None
    except subprocess.CalledProcessError as exc:
        raise DataError(f"dvc get {repo} {path}: {exc.stderr.strip()}") from None
    return out


def columns_of(rows: Iterable[dict[str, Any]], names: Iterable[str]) -> Columns:
    names = list(names)
    out: Columns = {n: [] for n in names}
    for row in rows:
        for n in names:
            value = row.get(n)
            if value is not None and value != "":
                out[n].append(value)
    return out


# -- KServe's request log ------------------------------------------------------------------------

def _records(document: Any) -> list[dict]:
    items = document if isinstance(document, list) else [document]
    return [i for i in items if isinstance(i, dict)]


def _occurred(record: dict) -> datetime | None:
    text = record.get("occurrenceTime") or record.get("time")
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def request_body(record: dict) -> Any | None:
    """The JSON request body of one logged record (LogRequest or CloudEvent), or None."""
    kind = record.get("reqType") or record.get("type") or ""
    if kind not in REQUEST_TYPES:
        return None  # a response, or not a logged inference at all
    if "specversion" in record:  # a structured CloudEvent
        if "data" in record:
            data = record["data"]
            return json.loads(data) if isinstance(data, str) else data
        raw = base64.b64decode(record.get("data_base64") or "")
    else:
        raw = base64.b64decode(record.get("bytes") or "")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None  # not a JSON body (an image, a protobuf): nothing tabular to compare


def _input_rows(inp: dict) -> list:
    """An Open Inference Protocol input's rows (the flat `data` reshaped by `shape`)."""
    data, shape = inp.get("data") or [], inp.get("shape") or []
    while data and isinstance(data[0], list):
        data = [v for part in data for v in part]
    width = 1
    for dim in shape[1:]:
        width *= int(dim)
    if width == 1:
        return list(data)
    return [data[i:i + width] for i in range(0, len(data), width)]


def body_rows(body: Any, columns: list[str]) -> list[dict[str, Any]]:
    """Rows of one V1 or Open Inference Protocol request body."""
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("instances"), list):
        rows = []
        for item in body["instances"]:
            if isinstance(item, dict):
                rows.append(item)
            elif isinstance(item, list) and len(item) == len(columns):
                rows.append(dict(zip(columns, item)))
        return rows
    inputs = [i for i in body.get("inputs") or [] if isinstance(i, dict)]
    if len(inputs) == 1 and len(columns) > 1 and len((inputs[0].get("shape") or [0, 1])) == 2:
        return [dict(zip(columns, row)) for row in _input_rows(inputs[0]) if isinstance(row, list)
                and len(row) == len(columns)]
    named = {i.get("name"): _input_rows(i) for i in inputs if i.get("name") in columns}
    if not named:
        return []
    length = min(len(v) for v in named.values())
    return [{name: values[k] for name, values in named.items()} for k in range(length)]


def read_request_log(uri: str, columns: list[str], *, since: datetime | None = None) -> list[dict[str, Any]]:
    """Rows of every logged request under `uri` that occurred at or after `since`."""
    rows: list[dict[str, Any]] = []
    for path in list_files(uri):
        data = read_bytes(path)
        try:
            documents = [json.loads(data)]
        except ValueError:  # JSON lines: one record (or event) per line
            try:
                documents = [json.loads(line) for line in data.decode("utf-8", "replace").splitlines()
                             if line.strip()]
            except ValueError as exc:
                raise DataError(f"{path}: not a logged request (JSON or JSON lines): {exc}") from None
        for document in documents:
            for record in _records(document):
                moment = _occurred(record)
                if since is not None and moment is not None and moment < since:
                    continue
                rows += body_rows(request_body(record), columns)
    return rows
