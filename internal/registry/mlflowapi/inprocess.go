package mlflowapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/bridgeops/bridge/internal/registry/store"
)

// InProcess is an embedded registry served on a private loopback port for
// the length of one command (bridge models while bridge run is stopped).
type InProcess struct {
	URL   string // http://127.0.0.1:PORT
	store *store.Store
	srv   *http.Server
}

// ServeInProcess opens the embedded registry in home and serves its API on
// a free loopback port.
func ServeInProcess(ctx context.Context, home string) (*InProcess, error) {
	st, err := store.Open(ctx, home)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("serve the embedded registry in-process: %w", err)
	}
	srv := &http.Server{Handler: New(st, Options{}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &InProcess{URL: "http://" + ln.Addr().String(), store: st, srv: srv}, nil
}

// Close stops serving and closes the registry.
func (p *InProcess) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.srv.Shutdown(ctx)
	p.store.Close()
}
