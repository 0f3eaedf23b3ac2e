"""The step programs of examples/vision/defects.yaml: a defect / no-defect image classifier.

Each module is one step's command (`python -m defects.<module>`, or `torchrun -m defects.train`)
and exposes `parser()`, its argument parser, with heavy imports (torch, Pillow, onnxruntime,
fsspec) inside the functions that need them, so the parsers can be checked without them.
"""
