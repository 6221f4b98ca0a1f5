"""Evaluate the model: MSE into evaluation.json, and a prediction,label
baseline dataset for `bridge monitor baseline model-quality`."""
import json
import os
import tarfile
import tempfile

import joblib
import numpy as np

base = "/opt/ml/processing"
tmp = tempfile.mkdtemp()
with tarfile.open(f"{base}/model/model.tar.gz") as tar:
    tar.extractall(path=tmp)
model = joblib.load(os.path.join(tmp, "model.joblib"))

data = np.loadtxt(f"{base}/test/test.csv", delimiter=",")
y, X = data[:, 0], data[:, 1:]
pred = model.predict(X).astype(float)
mse = float(np.mean((y - pred) ** 2))
std = float(np.std((y - pred) ** 2))

os.makedirs(f"{base}/evaluation", exist_ok=True)
with open(f"{base}/evaluation/evaluation.json", "w") as f:
    json.dump({"regression_metrics": {"mse": {"value": mse, "standard_deviation": std}}}, f)
os.makedirs(f"{base}/baseline", exist_ok=True)
with open(f"{base}/baseline/baseline.csv", "w") as f:
    f.write("prediction,label\n")
    for p, l in zip(pred, y):
        f.write(f"{int(p)},{int(l)}\n")
print(f"mse={mse:.4f}")
