#!/usr/bin/env python3
"""The model-quality monitoring job of `bridge monitor run --type
model-quality` written with pandas and scikit-learn, as a reference for
Bridge's monitor benchmark (BenchmarkMonitorVsPandas) and its results.

It reads SageMaker data-capture files (<capture>/<endpoint>/<variant>/
YYYY/MM/DD/HH/*.jsonl) and ground-truth files (<ground-truth>/YYYY/MM/DD/HH/
*.jsonl), keeps the captured records whose inferenceTime is in
[--start, --end), merges them with the labels on the inference id (else the
event id), takes column 0 of the CSV response as the positive class's
probability, and prints the binary-classification metrics as JSON with the
seconds and CPU seconds the job took (after imports).

  /usr/bin/python3 scripts/monitor_pandas.py --capture DIR --endpoint NAME \
      --ground-truth DIR --start 2026-05-02T10:00:00Z --end 2026-05-02T11:00:00Z
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from sklearn import metrics


def read_jsonl(files, pick):
    """The picked fields of every JSON line of files, as columns (fields
    picked while parsing: pd.json_normalize on a million records costs
    several times more)."""
    cols = None
    for path in files:
        with open(path, "rb") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    row = pick(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue
                if cols is None:
                    cols = [[] for _ in row]
                for c, v in zip(cols, row):
                    c.append(v)
    return cols or []


def pick_capture(d):
    m = d["eventMetadata"]
    return (m.get("inferenceId") or m["eventId"], m["inferenceTime"], d["captureData"]["endpointOutput"]["data"])


def pick_ground_truth(d):
    return (d["eventMetadata"]["eventId"], str(d["groundTruthData"]["data"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--capture", required=True)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--ground-truth", required=True)
    ap.add_argument("--start", required=True)
    ap.add_argument("--end", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--positive-label", default="1")
    a = ap.parse_args()

    began, cpu = time.perf_counter(), time.process_time()
    start, end = pd.Timestamp(a.start), pd.Timestamp(a.end)
    cap_files = sorted(glob.glob(os.path.join(a.capture, a.endpoint, "*", "*", "*", "*", "*", "*.jsonl")))
    gt_files = sorted(glob.glob(os.path.join(a.ground_truth, "*", "*", "*", "*", "*.jsonl")))

    ids, times, outputs = read_jsonl(cap_files, pick_capture) or ([], [], [])
    cap = pd.DataFrame({"id": ids, "time": times, "output": outputs})
    records = len(cap)
    try:
        t = pd.to_datetime(cap["time"], utc=True, format="%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:  # times without fractions of a second
        t = pd.to_datetime(cap["time"], utc=True)
    cap = cap[(t >= start) & (t < end)]
    cap = pd.DataFrame({"id": cap["id"], "score": pd.to_numeric(cap["output"].str.split(",").str[0])})

    gt_ids, labels = read_jsonl(gt_files, pick_ground_truth) or ([], [])
    gt = pd.DataFrame({"id": gt_ids, "label": labels}).drop_duplicates("id", keep="last")

    merged = cap.merge(gt, on="id", how="inner")
    y = (merged["label"].str.strip() == a.positive_label).astype(int).to_numpy()
    s = merged["score"].to_numpy()
    p = (s >= a.threshold).astype(int)
    tn, fp, fn, tp = metrics.confusion_matrix(y, p, labels=[0, 1]).ravel()
    out = {
        "records": records,
        "rows": int(len(merged)),
        "metrics": {
            "accuracy": metrics.accuracy_score(y, p),
            "precision": metrics.precision_score(y, p, zero_division=0),
            "recall": metrics.recall_score(y, p, zero_division=0),
            "f0_5": metrics.fbeta_score(y, p, beta=0.5, zero_division=0),
            "f1": metrics.f1_score(y, p, zero_division=0),
            "f2": metrics.fbeta_score(y, p, beta=2, zero_division=0),
            "auc": metrics.roc_auc_score(y, s),
            "true_positive_rate": tp / (tp + fn) if tp + fn else 0.0,
            "true_negative_rate": tn / (tn + fp) if tn + fp else 0.0,
        },
    }
    out["seconds"] = time.perf_counter() - began
    out["cpu_seconds"] = time.process_time() - cpu
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
