package config

// AWSFromEnv returns the AWS settings of the process environment (after
// Export has copied the .env file into it), for tests and tools that build
// parts without a loaded Config. Bridge's own parts never call it: their
// wiring passes them the typed sections of its Config at construction.
func AWSFromEnv() AWSSettings {
	c := Config{}
	var errs errList
	c.loadSections(&errs)
	return c.AWS
}
