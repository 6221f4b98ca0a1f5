// Package pycheck runs reference computations in Python (pandas,
// scikit-learn, SciPy) for tests that check the monitor's figures against
// them. The interpreter is $BRIDGE_PYTHON, else the first of python3 and
// /usr/bin/python3 that can import sklearn; tests skip when there is none.
package pycheck

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"testing"
)

var (
	once   sync.Once
	python string
	reason string
)

func find() {
	cands := []string{}
	if p := os.Getenv("BRIDGE_PYTHON"); p != "" {
		cands = append(cands, p)
	} else {
		cands = append(cands, "python3", "/usr/bin/python3")
	}
	for _, c := range cands {
		if err := exec.Command(c, "-c", "import sklearn, pandas, scipy").Run(); err == nil {
			python = c
			return
		}
	}
	reason = "no Python with scikit-learn, pandas and SciPy (tried " + func() string {
		b, _ := json.Marshal(cands)
		return string(b)
	}() + "): install python3-sklearn and python3-pandas, or set BRIDGE_PYTHON"
}

// Interpreter returns the Python to use, or skips t.
func Interpreter(t testing.TB) string {
	t.Helper()
	once.Do(find)
	if python == "" {
		t.Skip(reason)
	}
	return python
}

// Run runs script with input encoded as JSON on stdin and decodes the JSON
// the script prints into out.
func Run(t testing.TB, script string, input, out any) {
	t.Helper()
	py := Interpreter(t)
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("python output: %v\n%s", err, stdout.String())
	}
}
