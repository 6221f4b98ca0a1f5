package trees

func loadXGBoost(dir string, conf, pyfunc map[string]any) (*Ensemble, error) {
	return nil, notNative("XGBoost models are not converted yet")
}
