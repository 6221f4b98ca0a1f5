"""Trains a scikit-learn LogisticRegression on a generated dataset and writes
it in MLflow's model layout, as mlflow.sklearn.save_model does.

usage: train_sklearn.py OUT_DIR SPEC_JSON

SPEC_JSON: {"seed", "rows", "features", "C", "format", "requirements",
"python_env", "test_rows"}. Prints a JSON document with the test rows,
column names, scikit-learn's own predictions for them, and the model's
coefficients.
"""

import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression


def main():
    out, spec = sys.argv[1], json.loads(sys.argv[2])
    seed = int(spec.get("seed", 0))
    n_features = int(spec.get("features", 4))
    X, y = make_classification(
        n_samples=int(spec.get("rows", 400)),
        n_features=n_features,
        n_informative=min(3, n_features),
        n_redundant=0,
        random_state=seed,
    )
    columns = ["f%d" % i for i in range(n_features)]
    frame = pd.DataFrame(X, columns=columns)
    model = LogisticRegression(C=float(spec.get("C", 1.0)), max_iter=1000).fit(X if spec.get("array_fit") else frame, y)

    os.makedirs(out, exist_ok=True)
    fmt = spec.get("format", "pickle")
    path = os.path.join(out, "model.pkl")
    if fmt == "joblib":
        import joblib

        joblib.dump(model, path)
    else:  # pickle; cloudpickle files load with pickle for estimators
        import pickle

        with open(path, "wb") as f:
            pickle.dump(model, f)

    inputs = json.dumps([{"type": "double", "name": c} for c in columns])
    pyver = "%d.%d.%d" % sys.version_info[:3]
    with open(os.path.join(out, "MLmodel"), "w") as f:
        f.write(
            "artifact_path: model\n"
            "flavors:\n"
            "  python_function:\n"
            "    env:\n"
            "      virtualenv: python_env.yaml\n"
            "    loader_module: mlflow.sklearn\n"
            "    model_path: model.pkl\n"
            "    predict_fn: predict\n"
            "    python_version: %s\n"
            "  sklearn:\n"
            "    code: null\n"
            "    pickled_model: model.pkl\n"
            "    serialization_format: %s\n"
            "    sklearn_version: %s\n"
            "mlflow_version: 2.9.2\n"
            "model_uuid: %032x\n"
            "signature:\n"
            "  inputs: '%s'\n"
            "  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"int64\", \"shape\": [-1]}}]'\n"
            % (pyver, fmt, sklearn.__version__, seed + 1, inputs)
        )
    with open(os.path.join(out, "requirements.txt"), "w") as f:
        f.write(spec.get("requirements", "scikit-learn\n"))
    with open(os.path.join(out, "python_env.yaml"), "w") as f:
        f.write(
            spec.get(
                "python_env",
                "python: %s\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n" % pyver,
            )
        )

    rng = np.random.RandomState(seed + 1000)
    test = pd.DataFrame(rng.normal(size=(int(spec.get("test_rows", 25)), n_features)), columns=columns)
    json.dump(
        {
            "columns": columns,
            "rows": test.values.tolist(),
            "predictions": model.predict(test.values if spec.get("array_fit") else test).tolist(),
            "coef": model.coef_.tolist(),
            "intercept": model.intercept_.tolist(),
            "classes": model.classes_.tolist(),
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
