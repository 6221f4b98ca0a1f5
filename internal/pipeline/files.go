package pipeline

import (
	"fmt"
	"io"
	"os"
)

// The functions in this file are bridge pipeline validate, graph and
// compile: each reads a definition file and writes its answer to w.

// CheckFile loads and checks the definition at path and writes a summary
// to w: valid, with its step and parameter counts, and, when the local
// executor cannot run it (a SageMaker-only step type), why.
func CheckFile(w io.Writer, path string) error {
	def, _, err := Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s: valid (%d steps, %d parameters)\n", path, len(def.Steps), len(def.Parameters))
	if err := def.CheckLocal(); err != nil {
		fmt.Fprintf(w, "not runnable locally: %v\n", err)
	}
	return nil
}

// RenderFile writes the DAG of the definition at path to w in format
// ("text", "dot" or "mermaid").
func RenderFile(w io.Writer, path, format string) error {
	def, _, err := Load(path)
	if err != nil {
		return err
	}
	out, err := Render(def, format)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, out)
	return err
}

// CompileFile writes SageMaker's JSON for the definition at path to the
// file out, or to w when out is "".
func CompileFile(w io.Writer, path, out string) error {
	b, err := Compile(path)
	if err != nil {
		return err
	}
	if out != "" {
		return os.WriteFile(out, b, 0o644)
	}
	_, err = w.Write(b)
	return err
}
