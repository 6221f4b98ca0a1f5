"""Entry script Bridge puts into model.tar.gz (code/inference.py) when an
MLflow scikit-learn model is served by AWS's prebuilt SageMaker scikit-learn
image. The container calls model_fn, input_fn, predict_fn and output_fn.

It answers the protocol Bridge's localhost router answers: application/json
with dataframe_split, dataframe_records, instances or inputs, or text/csv;
responses are {"predictions": [...]} (application/json) or one prediction per
line (text/csv). code/bridge_model.json names the pickled model, its
serialization format and the input columns of the model's signature."""

import csv
import io
import json
import os
import pickle

import numpy as np

try:
    import pandas as pd
except ImportError:  # the container ships pandas; stay usable without it
    pd = None

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "bridge_model.json")) as f:
    CONF = json.load(f)


def model_fn(model_dir):
    path = os.path.join(model_dir, CONF["model_file"])
    if CONF.get("format") == "cloudpickle":
        try:
            import cloudpickle

            with open(path, "rb") as f:
                return cloudpickle.load(f)
        except ImportError:
            pass
    if CONF.get("format") == "joblib":
        import joblib

        return joblib.load(path)
    with open(path, "rb") as f:
        return pickle.load(f)


def _frame(rows, columns=None):
    if pd is not None:
        return pd.DataFrame(rows, columns=columns)
    return np.asarray(rows)


def input_fn(body, content_type):
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8")
    columns = CONF.get("columns")
    if content_type == "text/csv":
        rows = [r for r in csv.reader(io.StringIO(body)) if r]
        if rows and columns and rows[0] == columns:
            rows = rows[1:]
        data = [[float(x) for x in r] for r in rows]
        return _frame(data, columns if columns and data and len(columns) == len(data[0]) else None)
    if content_type == "application/json":
        doc = json.loads(body)
        if isinstance(doc, dict):
            if "dataframe_split" in doc:
                s = doc["dataframe_split"]
                return _frame(s["data"], s.get("columns"))
            if "dataframe_records" in doc:
                recs = doc["dataframe_records"]
                return pd.DataFrame(recs) if pd is not None else np.asarray([list(r.values()) for r in recs])
            for key in ("instances", "inputs"):
                if key in doc:
                    return _frame(doc[key], columns)
            raise ValueError("JSON input needs dataframe_split, dataframe_records, instances or inputs")
        return _frame(doc, columns)
    raise ValueError("unsupported content type %s: send application/json or text/csv" % content_type)


def predict_fn(data, model):
    return model.predict(data)


def output_fn(prediction, accept):
    values = np.asarray(prediction).tolist()
    if accept == "text/csv":
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        for v in values:
            w.writerow(v if isinstance(v, list) else [v])
        return out.getvalue(), "text/csv"
    return json.dumps({"predictions": values}), "application/json"
