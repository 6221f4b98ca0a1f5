package trees

func loadLightGBM(dir string, conf, pyfunc map[string]any) (*Ensemble, error) {
	return nil, notNative("LightGBM models are not converted yet")
}
