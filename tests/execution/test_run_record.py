"""The run record is written by every loop iteration's worker thread: saves never race."""

from __future__ import annotations

import json
import threading

from mlopsdsl.run.record import RunRecord


def test_saves_from_many_threads_never_lose_the_temporary_file(tmp_path) -> None:
    record = RunRecord.create(tmp_path / "runs", "spec.yaml", None, {})
    errors: list[BaseException] = []

    def finish_steps(worker: int) -> None:
        try:
            for n in range(100):
                record.step(f"w{worker}-{n}").status = "succeeded"
                record.save()
        except BaseException as exc:  # a lost race shows here as FileNotFoundError
            errors.append(exc)

    threads = [threading.Thread(target=finish_steps, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(json.loads((record.directory / "run.json").read_text())["steps"]) == 800
