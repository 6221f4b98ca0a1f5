package config

// The functions below read the process environment (after Export has
// copied the .env file into it) for packages that are also used without a
// loaded Config: libraries and tests construct them directly. bridge's
// wiring passes the typed sections of its Config instead.

// PythonFromEnv returns the Python settings of the process environment.
func PythonFromEnv() PythonSettings {
	c := Config{}
	var errs errList
	c.loadSections(&errs) // invalid values fall back to defaults; Load reports them
	return c.Python
}

// AWSFromEnv returns the AWS settings of the process environment.
func AWSFromEnv() AWSSettings {
	c := Config{}
	var errs errList
	c.loadSections(&errs)
	return c.AWS
}
