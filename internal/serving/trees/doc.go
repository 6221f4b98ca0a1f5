// Package trees serves tree ensembles in-process: scikit-learn decision
// trees, random forests, extra trees, gradient boosting and histogram
// gradient boosting (bare or in a Pipeline with scalers and imputers, whose
// last step may also be a linear model), XGBoost JSON/UBJSON models and
// LightGBM text models.
//
// Every model becomes one documented JSON "tree file" (format.go, and
// docs/python.md): scikit-learn pickles through a small exporter run once in
// the model's own Python interpreter (export_sklearn.py, embedded), XGBoost
// and LightGBM files through readers in Go. The file is validated completely
// when a version loads (feature indices, children, cycles, shapes), then
// evaluated with each library's own arithmetic, so that answers equal the
// library's predict and predict_proba.
//
// The Runtime serves the sklearn, xgboost and lightgbm flavors ahead of the
// Python runtime (serving/runtimes registers it with Priority) and hands a
// model that does not convert to its Fallback, the Python runtime it was
// built with (Mode: BRIDGE_NATIVE=off|auto|require).
package trees
