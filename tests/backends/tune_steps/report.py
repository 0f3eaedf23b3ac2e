"""Reads the refit model, the one downstream steps get, and says what it is."""
import argparse
import json

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
args = parser.parse_args()
model = json.load(open(args.model))
print(f"served model: degree={model['degree']} alpha={model['alpha']}")
