"""Trains scikit-learn (and XGBoost) models for the tree runtime's tests and
writes each in MLflow's layout with the library's own answers.

usage: train_trees.py OUT_DIR SPECS_JSON

SPECS_JSON is a list of {"name", "kind", "seed", "n_estimators",
"max_depth", "features", "classes" (0 = regression), "rows", "test_rows",
"nan" (fraction of missing test and training values), "onehot" (number of
one-hot columns), "steps" (pipeline steps before the model),
"predict_fn", "categorical" (HistGB categorical columns), "labels"
("int", "str"); for XGBoost also "objective", "early_stopping" (rounds,
on a quarter of the training rows), "missing" (XGBoost's missing value,
which replaces NaN in the data) and "model_class" ("Booster")}. Each model goes to OUT_DIR/<name>/ with MLmodel,
model.pkl (or model.json/model.ubj for xgboost) and expect.json: the test
rows (NaN as null) and predict / predict_proba outputs.
"""

import json
import os
import pickle
import sys

import numpy as np
import sklearn
from sklearn import ensemble, tree, linear_model, pipeline, preprocessing, impute

KINDS = {
    "DecisionTreeClassifier": tree.DecisionTreeClassifier,
    "DecisionTreeRegressor": tree.DecisionTreeRegressor,
    "RandomForestClassifier": ensemble.RandomForestClassifier,
    "RandomForestRegressor": ensemble.RandomForestRegressor,
    "ExtraTreesClassifier": ensemble.ExtraTreesClassifier,
    "ExtraTreesRegressor": ensemble.ExtraTreesRegressor,
    "GradientBoostingClassifier": ensemble.GradientBoostingClassifier,
    "GradientBoostingRegressor": ensemble.GradientBoostingRegressor,
    "HistGradientBoostingClassifier": ensemble.HistGradientBoostingClassifier,
    "HistGradientBoostingRegressor": ensemble.HistGradientBoostingRegressor,
    "LogisticRegression": linear_model.LogisticRegression,
    "LinearRegression": linear_model.LinearRegression,
}
STEPS = {
    "StandardScaler": preprocessing.StandardScaler,
    "MinMaxScaler": preprocessing.MinMaxScaler,
    "SimpleImputer": impute.SimpleImputer,
    "SimpleImputerMedian": lambda: impute.SimpleImputer(strategy="median"),
    "FunctionTransformer": lambda: preprocessing.FunctionTransformer(np.tanh),
}


class Doubler(sklearn.base.BaseEstimator, sklearn.base.TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X) * 2


def data(spec, rng):
    n = spec.get("rows", 600) + spec.get("test_rows", 2000)
    f = spec.get("features", 6)
    X = rng.normal(size=(n, f)) * rng.uniform(0.5, 20, size=f) + rng.uniform(-5, 5, size=f)
    oh = spec.get("onehot", 0)
    if oh:
        cat = rng.integers(0, oh, size=n)
        X = np.hstack([X, np.eye(oh)[cat]])
    cats = spec.get("categorical", 0)
    if cats:
        X = np.hstack([X, rng.integers(0, 6, size=(n, cats)).astype(float)])
    w = rng.normal(size=X.shape[1])
    score = np.tanh(X / (1 + np.abs(X).mean(axis=0))) @ w + 0.3 * rng.normal(size=n)
    k = spec.get("classes", 2)
    if k == 0:
        y = score * 10 + 50
        if spec.get("loss") == "poisson":
            y = rng.poisson(np.exp(np.clip(score, -3, 3)))
    else:
        qs = np.quantile(score, np.linspace(0, 1, k + 1)[1:-1])
        y = np.searchsorted(qs, score)
        if spec.get("labels") == "str":
            y = np.array(["class_%d" % c for c in y])
    nan = spec.get("nan", 0)
    if nan:
        mask = rng.uniform(size=X[:, : f].shape) < nan
        X[:, :f][mask] = np.nan
    return X, y


def build(spec):
    kind = spec["kind"]
    seed = spec.get("seed", 0)
    params = {}
    if kind.startswith(("RandomForest", "ExtraTrees", "GradientBoosting")):
        params["n_estimators"] = spec.get("n_estimators", 10)
    if kind.startswith("HistGradientBoosting"):
        params["max_iter"] = spec.get("n_estimators", 10)
        if spec.get("categorical"):
            f = spec.get("features", 6) + spec.get("onehot", 0)
            params["categorical_features"] = list(range(f, f + spec["categorical"]))
        if spec.get("loss"):
            params["loss"] = spec["loss"]
    if kind.startswith("GradientBoosting") and spec.get("loss"):
        params["loss"] = spec["loss"]
    if spec.get("max_depth") and not kind.startswith(("Logistic", "Linear")):
        params["max_depth"] = spec["max_depth"]
    if "random_state" in KINDS[kind]().get_params():
        params["random_state"] = seed
    if kind == "LogisticRegression":
        params["max_iter"] = 2000
    est = KINDS[kind](**params)
    steps = spec.get("steps") or []
    if steps:
        objs = [(s.lower() + str(i), Doubler() if s == "Doubler" else STEPS[s]()) for i, s in enumerate(steps)]
        est = pipeline.Pipeline(objs + [("model", est)])
    return est


def write_mlmodel(out, flavor_conf, columns, predict_fn):
    inputs = json.dumps([{"type": "double", "name": c} for c in columns])
    with open(os.path.join(out, "MLmodel"), "w") as f:
        f.write("artifact_path: model\nflavors:\n  python_function:\n" + flavor_conf["pyfunc"])
        if predict_fn:
            f.write("    predict_fn: %s\n" % predict_fn)
        f.write(flavor_conf["flavor"])
        f.write("mlflow_version: 2.9.2\nsignature:\n  inputs: '%s'\n" % inputs)


def main():
    out_root, specs = sys.argv[1], json.loads(sys.argv[2])
    for spec in specs:
        rng = np.random.default_rng(spec.get("seed", 0))
        X, y = data(spec, rng)
        n_train = spec.get("rows", 600)
        Xtr, ytr, Xte = X[:n_train], y[:n_train], X[n_train:]
        out = os.path.join(out_root, spec["name"])
        os.makedirs(out, exist_ok=True)
        columns = ["f%d" % i for i in range(X.shape[1])]
        expect = {"columns": columns, "rows": [[None if v != v else float(v) for v in r] for r in Xte]}
        if spec["kind"].startswith("XGB"):
            import xgboost as xgb

            kind = spec["kind"]
            params = dict(n_estimators=spec.get("n_estimators", 10), max_depth=spec.get("max_depth", 4), random_state=spec.get("seed", 0), tree_method="hist", n_jobs=1)
            if spec.get("base_score") is not None:
                params["base_score"] = spec["base_score"]
            if spec.get("objective"):
                params["objective"] = spec["objective"]
            if spec.get("missing") is not None:
                params["missing"] = spec["missing"]
                Xtr = np.where(np.isnan(Xtr), spec["missing"], Xtr)
                Xte = np.where(np.isnan(Xte), spec["missing"], Xte)
                expect["rows"] = [[float(v) for v in r] for r in Xte]
            fit = {}
            if spec.get("early_stopping"):
                params["early_stopping_rounds"] = spec["early_stopping"]
                nv = len(Xtr) // 4
                fit = dict(eval_set=[(Xtr[:nv], ytr[:nv])], verbose=False)
                Xtr, ytr = Xtr[nv:], ytr[nv:]
            if spec.get("objective") in ("count:poisson", "reg:gamma", "reg:tweedie"):
                ytr = np.exp((ytr - ytr.mean()) / (4 * ytr.std()))
            if spec.get("objective") == "reg:logistic":
                ytr = (ytr - ytr.min()) / (ytr.max() - ytr.min())
            cls = {"XGBClassifier": xgb.XGBClassifier, "XGBRegressor": xgb.XGBRegressor, "XGBRFClassifier": xgb.XGBRFClassifier, "XGBRFRegressor": xgb.XGBRFRegressor}
            booster_only = spec.get("model_class") == "Booster"
            est = cls[kind](**params)
            fit_X, pred_X = Xtr, Xte
            if spec.get("categorical"):
                import pandas as pd

                cat_cols = list(range(X.shape[1] - spec["categorical"], X.shape[1]))
                est.set_params(enable_categorical=True, max_cat_to_onehot=1)

                def frame(A):
                    df = pd.DataFrame(A, columns=columns)
                    for c in cat_cols:
                        df[columns[c]] = pd.Categorical(df[columns[c]], categories=[float(v) for v in range(8)])
                    return df

                fit_X, pred_X = frame(Xtr), frame(Xte)
                if fit:
                    fit["eval_set"] = [(frame(a), b) for a, b in fit["eval_set"]]
            est.fit(fit_X, ytr, **fit)
            fname = "model." + spec.get("format", "json")
            est.save_model(os.path.join(out, fname))
            # The answers of the saved file loaded as MLflow loads it.
            if booster_only:
                loaded = xgb.Booster()
                loaded.load_model(os.path.join(out, fname))
                expect["predict"] = loaded.predict(xgb.DMatrix(pred_X, missing=params.get("missing"), enable_categorical=bool(spec.get("categorical")))).tolist()
                model_class = "xgboost.core.Booster"
            else:
                loaded = cls[kind]()
                loaded.load_model(os.path.join(out, fname))
                expect["predict"] = loaded.predict(pred_X).tolist()
                if kind.endswith("Classifier"):
                    expect["predict_proba"] = loaded.predict_proba(pred_X).tolist()
                model_class = "xgboost.sklearn." + kind
            conf = {
                "pyfunc": "    data: %s\n    loader_module: mlflow.xgboost\n" % fname,
                "flavor": "  xgboost:\n    code: null\n    data: %s\n    model_class: %s\n    model_format: %s\n    xgb_version: %s\n"
                % (fname, model_class, spec.get("format", "json"), xgb.__version__),
            }
            write_mlmodel(out, conf, columns, None)
        else:
            est = build(spec)
            est.fit(Xtr, ytr)
            with open(os.path.join(out, "model.pkl"), "wb") as f:
                pickle.dump(est, f)
            pred = est.predict(Xte)
            expect["predict"] = [p.item() if hasattr(p, "item") else p for p in pred]
            if hasattr(est, "predict_proba") and spec.get("classes", 2) != 0:
                expect["predict_proba"] = est.predict_proba(Xte).tolist()
            conf = {
                "pyfunc": "    loader_module: mlflow.sklearn\n    model_path: model.pkl\n",
                "flavor": "  sklearn:\n    code: null\n    pickled_model: model.pkl\n    serialization_format: pickle\n    sklearn_version: %s\n" % sklearn.__version__,
            }
            write_mlmodel(out, conf, columns, spec.get("predict_fn"))
        with open(os.path.join(out, "expect.json"), "w") as f:
            json.dump(expect, f)


if __name__ == "__main__":
    main()
