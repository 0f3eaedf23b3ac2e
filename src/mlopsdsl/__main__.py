from mlopsdsl.cli import run

run()
