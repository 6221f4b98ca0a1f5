package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// The -o flag of every command that prints data: table (for people) or
// json (for scripts). Every command writes JSON through emitJSON.

func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return fmt.Errorf("-o %q: want table or json", o)
	}
	return nil
}

// emitJSON writes v as indented JSON.
func emitJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
