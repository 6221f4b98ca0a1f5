"""Trains a small churn classifier with scikit-learn and saves it in MLflow's
model layout (MLmodel with the sklearn and python_function flavors, a
signature, model.pkl, requirements.txt), as mlflow.sklearn.save_model does.

usage: python3 scripts/train_churn.py OUT_DIR [SEED]

The features are tenure (months) and charges (per month); the label is
whether the customer left. Different seeds give slightly different models.
"""

import os
import pickle
import sys

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression


def main():
    out = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = np.random.default_rng(seed)
    n = 500
    tenure = rng.integers(1, 72, n).astype(float)
    charges = rng.normal(70, 20, n).clip(18, 120)
    logit = -0.06 * tenure + 0.04 * (charges - 70) + 0.8 + rng.normal(0, 0.5, n)
    churned = (logit > 0).astype(int)
    X = np.column_stack([tenure, charges])
    model = LogisticRegression(max_iter=1000).fit(X, churned)

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "model.pkl"), "wb") as f:
        pickle.dump(model, f)
    inputs = '[{"type": "double", "name": "tenure"}, {"type": "double", "name": "charges"}]'
    with open(os.path.join(out, "MLmodel"), "w") as f:
        f.write(
            "artifact_path: model\n"
            "flavors:\n"
            "  python_function:\n"
            "    loader_module: mlflow.sklearn\n"
            "    model_path: model.pkl\n"
            "    predict_fn: predict\n"
            "    python_version: %d.%d.%d\n"
            "  sklearn:\n"
            "    pickled_model: model.pkl\n"
            "    serialization_format: pickle\n"
            "    sklearn_version: %s\n"
            "signature:\n"
            "  inputs: '%s'\n"
            "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": [-1]}}]'\n"
            % (sys.version_info[0], sys.version_info[1], sys.version_info[2], sklearn.__version__, inputs)
        )
    with open(os.path.join(out, "requirements.txt"), "w") as f:
        f.write("scikit-learn==%s\n" % sklearn.__version__)
    print(out)


if __name__ == "__main__":
    main()
