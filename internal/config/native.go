package config

import (
	"fmt"
	"os"
	"strings"
)

// NativeMode says when models of Python flavors (sklearn, xgboost,
// lightgbm) are served in-process by Bridge's native tree runtime
// (BRIDGE_NATIVE).
type NativeMode string

// Native modes.
const (
	// NativeOff serves them with the Python runtime, as before.
	NativeOff NativeMode = "off"
	// NativeAuto (the default) serves a version natively when its model
	// converts, and with the Python runtime (logging why) when it does not.
	NativeAuto NativeMode = "auto"
	// NativeRequire fails the version when its model does not convert.
	NativeRequire NativeMode = "require"
)

// Native reads BRIDGE_NATIVE from the environment (the .env file's values
// are in it once Config.Export has run): off, auto (default) or require.
func Native() (NativeMode, error) {
	v, _ := os.LookupEnv("BRIDGE_NATIVE")
	switch m := NativeMode(strings.ToLower(strings.TrimSpace(v))); m {
	case "":
		return NativeAuto, nil
	case NativeOff, NativeAuto, NativeRequire:
		return m, nil
	default:
		return "", fmt.Errorf("BRIDGE_NATIVE=%q: want off, auto or require", v)
	}
}
