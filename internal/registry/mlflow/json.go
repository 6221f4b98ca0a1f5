package mlflow

import (
	"encoding/json"
	"io"
)

func decodeJSON(r io.Reader, v any) error {
	err := json.NewDecoder(r).Decode(v)
	if err == io.EOF {
		return nil
	}
	return err
}
