package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a JSON definition or compiles the YAML form (.yaml, .yml);
// it returns the parsed definition and its JSON.
func Load(path string) (*Definition, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read definition: %w", err)
	}
	if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
		data, err = CompileYAML(data, path)
		if err != nil {
			return nil, nil, err
		}
	}
	def, err := Parse(data, path)
	if err != nil {
		return nil, nil, err
	}
	return def, data, nil
}
