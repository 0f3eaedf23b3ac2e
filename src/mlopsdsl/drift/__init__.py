"""The drift job that `monitoring.drift` schedules: `python -m mlopsdsl.drift`.

`stats` computes the scores, `data` reads the reference and the current sample (a table,
or KServe's request log), `job` ties them to the CronJob's environment, the Pushgateway
and the retrain dispatch. Needs the `drift` extra: `pip install 'mlopsdsl[drift]'`.
"""
