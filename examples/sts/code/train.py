"""Train a logistic regression on the distance features (script mode)."""
import argparse
import os
import platform

import sklearn

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0)
parser.add_argument("--max_iter", type=int, default=200)
parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
args = parser.parse_args()

data = np.loadtxt(os.path.join(args.train, "train.csv"), delimiter=",")
y, X = data[:, 0].astype(int), data[:, 1:]
model = LogisticRegression(C=args.C, max_iter=args.max_iter).fit(X, y)
joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
# An MLflow model directory too, so the registered version is servable by
# Bridge (bridge run) and by MLflow as it is.
with open(os.path.join(args.model_dir, "MLmodel"), "w") as f:
    f.write(
        "flavors:\n"
        "  python_function:\n"
        "    loader_module: mlflow.sklearn\n"
        "    model_path: model.joblib\n"
        f"    python_version: {platform.python_version()}\n"
        "  sklearn:\n"
        "    pickled_model: model.joblib\n"
        "    serialization_format: joblib\n"
        f"    sklearn_version: {sklearn.__version__}\n"
    )
print(f"trained on {len(y)} rows, train accuracy {model.score(X, y):.3f}")
