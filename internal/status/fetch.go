package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// ErrNotRunning says that no bridge run answers at an address.
var ErrNotRunning = errors.New("bridge run is not answering")

// Fetch asks a running bridge run at addr (host:port) for GET /status.
// An address where nothing, or something other than bridge run, answers
// gives an error wrapping ErrNotRunning.
func Fetch(ctx context.Context, addr string) (Doc, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return Doc{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Doc{}, fmt.Errorf("%w at %s: %v", ErrNotRunning, addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return Doc{}, fmt.Errorf("read status from %s: %w", addr, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return Doc{}, fmt.Errorf("%w at %s: something else listens there (GET /status answered 404)", ErrNotRunning, addr)
	}
	if resp.StatusCode != http.StatusOK {
		return Doc{}, fmt.Errorf("status from %s: %s: %s", addr, resp.Status, strings.TrimSpace(string(b)))
	}
	var doc Doc
	if err := json.Unmarshal(b, &doc); err != nil {
		return Doc{}, fmt.Errorf("%w at %s: GET /status answered something else: %v", ErrNotRunning, addr, err)
	}
	return doc, nil
}
