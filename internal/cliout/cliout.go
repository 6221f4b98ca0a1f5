// Package cliout is the one output writer of Bridge's commands: every
// command that prints data takes -o table (for people) or json (for
// scripts), and every JSON output goes through JSON.
package cliout

import (
	"encoding/json"
	"fmt"
	"io"
)

// Check validates the value of an -o flag: table or json.
func Check(o string) error {
	if o != "table" && o != "json" {
		return fmt.Errorf("-o %q: want table or json", o)
	}
	return nil
}

// JSON writes v as indented JSON followed by a newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// List writes list as indented JSON, an empty list as [] rather than null.
func List[T any](w io.Writer, list []T) error {
	if list == nil {
		list = []T{}
	}
	return JSON(w, list)
}

// Print writes v as JSON when asJSON, else with table (for people).
func Print[T any](w io.Writer, asJSON bool, v T, table func(io.Writer, T) error) error {
	if asJSON {
		return JSON(w, v)
	}
	return table(w, v)
}

// PrintList is Print for a list: as JSON an empty list is [].
func PrintList[T any](w io.Writer, asJSON bool, list []T, table func(io.Writer, []T) error) error {
	if asJSON {
		return List(w, list)
	}
	return table(w, list)
}
