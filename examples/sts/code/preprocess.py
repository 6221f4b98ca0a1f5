"""Preprocess sentence pairs into distance features.

Downloads its input itself with boto3, as the stsmodelmonitor pipeline's
preprocess step does; on Bridge boto3 reaches the embedded S3 through
AWS_ENDPOINT_URL."""
import argparse
import csv
import math
import os
import random
from collections import Counter

import boto3

parser = argparse.ArgumentParser()
parser.add_argument("--input-data", required=True)
parser.add_argument("--base-dir", default="/opt/ml/processing")
args = parser.parse_args()

bucket, key = args.input_data[len("s3://"):].split("/", 1)
os.makedirs(f"{args.base_dir}/data", exist_ok=True)
local = f"{args.base_dir}/data/pairs.csv"
boto3.resource("s3").Bucket(bucket).download_file(key, local)


def features(a, b):
    ta, tb = a.split(), b.split()
    sa, sb = set(ta), set(tb)
    jaccard = 1 - len(sa & sb) / max(1, len(sa | sb))
    ca, cb = Counter(ta), Counter(tb)
    dot = sum(ca[w] * cb[w] for w in ca)
    norm = math.sqrt(sum(v * v for v in ca.values())) * math.sqrt(sum(v * v for v in cb.values()))
    cosine = 1 - (dot / norm if norm else 0)
    length = abs(len(ta) - len(tb)) / max(len(ta), len(tb), 1)
    position = sum(1 for x, y in zip(ta, tb) if x != y) / max(len(ta), len(tb), 1)
    return [round(jaccard, 6), round(cosine, 6), round(length, 6), round(position, 6)]


rows = []
with open(local) as f:
    for r in csv.DictReader(f):
        label = int(round(float(r["score"])))
        rows.append([label] + features(r["sentence1"], r["sentence2"]))

random.Random(0).shuffle(rows)
n = len(rows)
splits = {"train": rows[: int(0.7 * n)], "validation": rows[int(0.7 * n): int(0.85 * n)], "test": rows[int(0.85 * n):]}
for name, part in splits.items():
    os.makedirs(f"{args.base_dir}/{name}", exist_ok=True)
    with open(f"{args.base_dir}/{name}/{name}.csv", "w", newline="") as f:
        csv.writer(f).writerows(part)
print({k: len(v) for k, v in splits.items()})
