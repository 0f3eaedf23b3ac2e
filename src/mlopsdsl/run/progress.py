"""What `mlopsdsl run` shows while it runs: a live panel of steps on a terminal (rich), plain
lines otherwise (a CI log, a pipe), one per start, finish and gate decision."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

SYMBOLS = {"succeeded": "ok", "cached": "cached", "failed": "FAILED"}


class Plain:
    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream, self.lock = stream, threading.Lock()

    def __call__(self, event: str, *args: Any) -> None:
        with self.lock:
            if event == "start":
                self.stream.write(f"  > {args[0].task}\n")
            elif event == "finish":
                step = args[0]
                retries = f", {step.attempts} attempts" if step.attempts > 1 else ""
                self.stream.write(f"  {SYMBOLS.get(step.status, step.status)} {step.task} "
                                  f"({step.seconds:.1f}s{retries})\n")
            elif event == "decision":
                self.stream.write(f"  ? {args[0]}: {'taken' if args[1] else 'skipped'}\n")
            self.stream.flush()

    def close(self) -> None:
        pass


class Live(Plain):
    """rich's live display: running steps with a spinner, finished ones above."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        super().__init__(stream)
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(file=stream)
        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=self.console, transient=True)
        self.running: dict[str, Any] = {}
        self.progress.start()

    def __call__(self, event: str, *args: Any) -> None:
        with self.lock:
            if event == "start":
                self.running[args[0].task] = self.progress.add_task(args[0].task)
            elif event == "finish":
                step = args[0]
                handle = self.running.pop(step.task, None)
                if handle is not None:
                    self.progress.remove_task(handle)
                style = {"succeeded": "green", "cached": "cyan", "failed": "bold red"}.get(step.status, "")
                retries = f", {step.attempts} attempts" if step.attempts > 1 else ""
                self.console.print(f"  [{style}]{SYMBOLS.get(step.status, step.status)}[/] {step.task} "
                                   f"({step.seconds:.1f}s{retries})", highlight=False)
            elif event == "decision":
                self.console.print(f"  [yellow]?[/] {args[0]}: {'taken' if args[1] else 'skipped'}", highlight=False)

    def close(self) -> None:
        self.progress.stop()


def display(stream: TextIO = sys.stderr, plain: bool = False):
    if not plain and hasattr(stream, "isatty") and stream.isatty():
        try:
            return Live(stream)
        except ImportError:
            pass
    return Plain(stream)
