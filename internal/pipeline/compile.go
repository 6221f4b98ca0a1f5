package pipeline

import "encoding/json"

// Compile reads a definition (YAML authoring form or JSON) and returns it
// as SageMaker's JSON, indented, with a final newline: what bridge
// pipeline compile writes.
func Compile(path string) ([]byte, error) {
	_, data, err := Load(path)
	if err != nil {
		return nil, err
	}
	var pretty map[string]any
	if err := json.Unmarshal(data, &pretty); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(pretty, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
