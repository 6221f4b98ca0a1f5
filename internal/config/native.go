package config

import "strings"

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

// nativeMode reads BRIDGE_NATIVE: off, auto (default) or require, in any
// case and with spaces around.
func (c Config) nativeMode(errs *errList) NativeMode {
	v := c.Get("BRIDGE_NATIVE", "")
	switch m := NativeMode(strings.ToLower(strings.TrimSpace(v))); m {
	case "":
		return NativeAuto
	case NativeOff, NativeAuto, NativeRequire:
		return m
	default:
		errs.add("%s: want off, auto or require", c.label("BRIDGE_NATIVE", v))
		return NativeAuto
	}
}
