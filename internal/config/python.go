package config

import (
	"os"
	"strings"
)

// PythonCandidates are the interpreters tried, in order, when BRIDGE_PYTHON
// is unset: the first that can import what a model's flavor needs runs it.
var PythonCandidates = []string{"python3", "/usr/bin/python3"}

// Python holds the Python runtime's settings.
type Python struct {
	// Interpreter is BRIDGE_PYTHON; empty means: try PythonCandidates.
	Interpreter string
	// EnvManager is BRIDGE_ENV_MANAGER (local or virtualenv; empty: local).
	EnvManager string
	// Server is BRIDGE_PYTHON_SERVER (auto, mlflow or bridge; empty: auto).
	Server string
	// NoPrestart is BRIDGE_PYTHON_PRESTART=0 (or false, off, no).
	NoPrestart bool
}

// PythonFromEnv reads the Python runtime's settings from the process
// environment, into which Config.Export has copied the .env file's values.
// The runtime reads them at every model load.
func PythonFromEnv() Python {
	p := Python{
		Interpreter: os.Getenv("BRIDGE_PYTHON"),
		EnvManager:  os.Getenv("BRIDGE_ENV_MANAGER"),
		Server:      os.Getenv("BRIDGE_PYTHON_SERVER"),
	}
	switch strings.ToLower(strings.TrimSpace(os.Getenv("BRIDGE_PYTHON_PRESTART"))) {
	case "0", "false", "off", "no":
		p.NoPrestart = true
	}
	return p
}
