"""Bridge's scikit-learn tree exporter.

Run once per model version, at load time, in the model's own interpreter:

    export_sklearn.py MODEL_DIR MLMODEL_JSON OUT_JSON

It unpickles the sklearn flavor's model and writes a Bridge tree file
("bridge-trees" version 1, documented in docs/python.md) to OUT_JSON. Exit
status 0: written. Exit status 3: the model cannot be served natively; the
reason is the last line of stdout. Anything else is a crash (stderr says
why). It never serves or changes the model.
"""

import json
import os
import sys


class Unsupported(Exception):
    pass


def _load(model_dir, mlmodel):
    flavors = mlmodel.get("flavors") or {}
    conf = flavors.get("sklearn") or {}
    pyfunc = flavors.get("python_function") or {}
    if conf.get("code") or pyfunc.get("code"):
        raise Unsupported("the model ships its own code (code paths): it may hold custom transformers")
    path = os.path.join(model_dir, conf.get("pickled_model") or pyfunc.get("data") or "model.pkl")
    fmt = (conf.get("serialization_format") or "cloudpickle").lower()
    if fmt == "joblib":
        import joblib

        return joblib.load(path)
    if fmt not in ("pickle", "cloudpickle"):
        raise Unsupported("serialization_format %r" % fmt)
    if fmt == "cloudpickle":
        try:
            import cloudpickle

            with open(path, "rb") as f:
                return cloudpickle.load(f)
        except ImportError:
            pass
    import pickle

    with open(path, "rb") as f:
        return pickle.load(f)


def _floats(a):
    return [float(x) for x in a]


def _threshold(x):
    x = float(x)
    if x == float("inf"):
        return "inf"
    if x == float("-inf"):
        return "-inf"
    return x


def _classes(est):
    out = []
    for c in est.classes_:
        if hasattr(c, "item"):
            c = c.item()
        if isinstance(c, bool) or isinstance(c, (int, float, str)):
            out.append(c)
        else:
            raise Unsupported("class label %r is not a string, number or boolean" % (c,))
    return out


def _sk_tree(t, normalize, output=0):
    """A fitted sklearn.tree._tree.Tree as a Bridge tree."""
    import numpy as np

    if t.n_outputs != 1:
        raise Unsupported("multi-output trees")
    value = t.value[:, 0, :]  # (nodes, classes or 1)
    if normalize:
        s = value.sum(axis=1)
        s[s == 0.0] = 1.0
        value = value / s[:, None]
    left = t.children_left.tolist()
    node = {
        "output": output,
        "feature": [int(f) if l != -1 else 0 for f, l in zip(t.feature, left)],
        "threshold": [_threshold(x) if l != -1 else 0.0 for x, l in zip(t.threshold, left)],
        "left": left,
        "right": t.children_right.tolist(),
        "value": _floats(np.ravel(value)),
    }
    if hasattr(t, "missing_go_to_left"):
        mgl = np.asarray(t.missing_go_to_left)
        node["missing_left"] = [bool(x) for x in mgl]
    return node


def _tree_model(est, kind):
    """DecisionTree*, RandomForest*, ExtraTrees*."""
    classifier = hasattr(est, "classes_")
    if kind.startswith("DecisionTree"):
        trees = [est]
    else:
        trees = list(est.estimators_)
    if getattr(est, "n_outputs_", 1) != 1:
        raise Unsupported("multi-output models")
    m = {
        "kind": "trees",
        "split": "le32",
        "combine": "average",
        "trees": [_sk_tree(t.tree_, classifier) for t in trees],
    }
    # scikit-learn >= 1.3 trees route missing values; older ones refuse them.
    m["missing"] = all("missing_left" in t for t in m["trees"])
    if not m["missing"]:
        for t in m["trees"]:
            t.pop("missing_left", None)
    if classifier:
        m["classes"] = _classes(est)
        m["n_outputs"] = m["leaf_width"] = len(m["classes"])
        m["link"] = "proba"
    else:
        m["n_outputs"] = m["leaf_width"] = 1
        m["link"] = "identity"
    return m


def _gb_model(est, kind):
    import numpy as np

    classifier = hasattr(est, "classes_")
    loss = type(est._loss).__name__
    if est.init_ != "zero" and type(est.init_).__name__ not in ("DummyClassifier", "DummyRegressor"):
        raise Unsupported("GradientBoosting with a custom init estimator (%s)" % type(est.init_).__name__)
    K = est.estimators_.shape[1]
    probe = np.zeros((1, est.n_features_in_), dtype=np.float32)
    base = _floats(est._raw_predict_init(probe)[0])
    trees = []
    for stage in est.estimators_:
        for k in range(K):
            trees.append(_sk_tree(stage[k].tree_, False, output=k))
    for t in trees:
        t.pop("missing_left", None)
    m = {
        "kind": "trees",
        "split": "le32",
        "combine": "sum",
        "scale": float(est.learning_rate),
        "base_score": base,
        "n_outputs": K,
        "trees": trees,
    }
    if classifier:
        m["classes"] = _classes(est)
        links = {"BinomialDeviance": "sigmoid", "MultinomialDeviance": "softmax", "ExponentialLoss": "sigmoid2"}
        if loss not in links:
            raise Unsupported("GradientBoostingClassifier loss %s" % loss)
        m["link"] = links[loss]
    else:
        if loss not in ("LeastSquaresError", "LeastAbsoluteError", "HuberLossFunction", "QuantileLossFunction"):
            raise Unsupported("GradientBoostingRegressor loss %s" % loss)
        m["link"] = "identity"
    return m


def _hgb_model(est, kind):
    import numpy as np

    classifier = hasattr(est, "classes_")
    base = np.ravel(est._baseline_prediction)
    K = est.n_trees_per_iteration_
    known_bits, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
    trees = []
    for it in est._predictors:
        for k, p in enumerate(it):
            n = p.nodes
            leaf = n["is_leaf"].astype(bool)
            t = {
                "output": k,
                "feature": [0 if l else int(f) for f, l in zip(n["feature_idx"], leaf)],
                "threshold": [0.0 if l else _threshold(x) for x, l in zip(n["num_threshold"], leaf)],
                "left": [-1 if l else int(c) for c, l in zip(n["left"], leaf)],
                "right": [-1 if l else int(c) for c, l in zip(n["right"], leaf)],
                "missing_left": [bool(x) for x in n["missing_go_to_left"]],
                "value": _floats(n["value"]),
            }
            if n["is_categorical"].any():
                cats = []
                for i in range(len(n)):
                    if leaf[i] or not n["is_categorical"][i]:
                        cats.append(None)
                        continue
                    bits = p.raw_left_cat_bitsets[n["bitset_idx"][i]]
                    cats.append([c for c in range(256) if (int(bits[c // 32]) >> (c % 32)) & 1])
                t["cat_left"] = cats
            trees.append(t)
    m = {
        "kind": "trees",
        "split": "le",
        "combine": "sum",
        "missing": True,
        "base_score": _floats(base),
        "n_outputs": K,
        "trees": trees,
    }
    cat_mask = est.is_categorical_
    if cat_mask is not None and np.any(cat_mask):
        known = {}
        for f in np.flatnonzero(cat_mask):
            bits = known_bits[f_idx_map[f]]
            known[str(int(f))] = [c for c in range(256) if (int(bits[c // 32]) >> (c % 32)) & 1]
        m["known_categories"] = known
    link = type(est._loss.link).__name__ if hasattr(est._loss, "link") else ""
    if classifier:
        m["classes"] = _classes(est)
        m["link"] = "sigmoid" if K == 1 else "softmax"
        if link not in ("LogitLink", "MultinomialLogit"):
            raise Unsupported("HistGradientBoostingClassifier link %s" % link)
    else:
        links = {"IdentityLink": "identity", "LogLink": "exp"}
        if link not in links:
            raise Unsupported("HistGradientBoostingRegressor link %s" % link)
        m["link"] = links[link]
    return m


def _linear_model(est, kind):
    import numpy as np

    coef = np.atleast_2d(np.asarray(est.coef_, dtype=float))
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=float))
    if kind == "LinearRegression":
        if coef.shape[0] != 1:
            raise Unsupported("multi-output LinearRegression")
        return {"kind": "linear", "coef": coef.tolist(), "intercept": _floats(intercept), "n_outputs": 1, "link": "identity"}
    classes = _classes(est)
    if len(classes) == 2:
        if coef.shape[0] != 1:
            raise Unsupported("binary LogisticRegression with %d coefficient rows" % coef.shape[0])
        return {"kind": "linear", "coef": coef.tolist(), "intercept": _floats(intercept), "n_outputs": 1, "link": "sigmoid", "classes": classes}
    multi = getattr(est, "multi_class", "auto")
    solver = getattr(est, "solver", "lbfgs")
    if multi == "ovr" or (multi == "auto" and solver == "liblinear"):
        raise Unsupported("one-vs-rest LogisticRegression")
    return {"kind": "linear", "coef": coef.tolist(), "intercept": _floats(intercept), "n_outputs": len(classes), "link": "softmax", "classes": classes}


MODELS = {
    "DecisionTreeClassifier": _tree_model,
    "DecisionTreeRegressor": _tree_model,
    "RandomForestClassifier": _tree_model,
    "RandomForestRegressor": _tree_model,
    "ExtraTreesClassifier": _tree_model,
    "ExtraTreesRegressor": _tree_model,
    "GradientBoostingClassifier": _gb_model,
    "GradientBoostingRegressor": _gb_model,
    "HistGradientBoostingClassifier": _hgb_model,
    "HistGradientBoostingRegressor": _hgb_model,
    "LogisticRegression": _linear_model,
    "LinearRegression": _linear_model,
}


def _step(est):
    import numpy as np

    kind = type(est).__name__
    mod = type(est).__module__
    if not mod.startswith("sklearn."):
        raise Unsupported("custom transformer %s.%s" % (mod, kind))
    if kind == "StandardScaler":
        s = {"kind": "standard_scaler"}
        if est.with_mean:
            s["mean"] = _floats(est.mean_)
        if est.with_std and est.scale_ is not None:
            s["scale"] = _floats(est.scale_)
        return s
    if kind == "MinMaxScaler":
        s = {"kind": "min_max_scaler", "scale": _floats(est.scale_), "min": _floats(est.min_)}
        if getattr(est, "clip", False):
            s["clip"] = [float(est.feature_range[0]), float(est.feature_range[1])]
        return s
    if kind == "SimpleImputer":
        if est.add_indicator:
            raise Unsupported("SimpleImputer with add_indicator")
        stats = np.asarray(est.statistics_)
        if stats.dtype.kind not in "fiu":
            raise Unsupported("SimpleImputer with non-numeric statistics")
        stats = stats.astype(float)
        mv = est.missing_values
        s = {"kind": "simple_imputer", "fill": [float(x) for x in stats]}
        if not (mv is None or (isinstance(mv, float) and mv != mv) or mv is np.nan):
            if not isinstance(mv, (int, float)):
                raise Unsupported("SimpleImputer missing_values %r" % (mv,))
            s["missing"] = float(mv)
        keep = getattr(est, "keep_empty_features", False)
        if not keep:
            s["keep"] = [i for i, x in enumerate(stats) if x == x]
            s["fill"] = [x if x == x else 0.0 for x in s["fill"]]
        else:
            s["fill"] = [x if x == x else 0.0 for x in s["fill"]]
        return s
    raise Unsupported("pipeline step %s" % kind)


def export(est, predict_fn):
    steps = []
    final = est
    kind = type(est).__name__
    if kind == "Pipeline":
        if len(est.steps) == 0:
            raise Unsupported("an empty Pipeline")
        for name, s in est.steps[:-1]:
            if s is None or s == "passthrough":
                continue
            steps.append(_step(s))
        final = est.steps[-1][1]
        kind = type(final).__name__
    if not type(final).__module__.startswith("sklearn.") or kind not in MODELS:
        raise Unsupported("estimator %s.%s" % (type(final).__module__, kind))
    m = MODELS[kind](final, kind)
    if predict_fn not in ("predict", "predict_proba"):
        raise Unsupported("predict_fn %s" % predict_fn)
    if predict_fn == "predict_proba" and "classes" not in m:
        raise Unsupported("predict_proba of a regressor")
    doc = {
        "format": "bridge-trees",
        "version": 1,
        "source": "%s.%s" % (type(est).__module__, type(est).__name__),
        "n_features": int(est.n_features_in_),
        "output": predict_fn,
        "model": m,
    }
    if steps:
        doc["preprocess"] = steps
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        doc["feature_names"] = [str(n) for n in names]
    return doc


def main():
    model_dir, mlmodel, out = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
    pyfunc = (mlmodel.get("flavors") or {}).get("python_function") or {}
    try:
        est = _load(model_dir, mlmodel)
        doc = export(est, pyfunc.get("predict_fn") or "predict")
    except Unsupported as e:
        print(str(e))
        sys.exit(3)
    tmp = out + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(doc, f, allow_nan=False)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
