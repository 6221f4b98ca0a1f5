package config

// PythonCandidates are the interpreters tried, in order, when BRIDGE_PYTHON
// is unset: the first that can import what a model's flavor needs runs it.
var PythonCandidates = []string{"python3", "/usr/bin/python3"}
