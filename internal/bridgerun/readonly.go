package bridgerun

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/tsdb"
	"github.com/bridgeops/bridge/internal/ui"
	"github.com/bridgeops/bridge/internal/ui/bridgeapp"
)

// ReadOnlyUI is bridge ui's handler: the dashboard, read-only, on the
// serving state of the bridge run at bridge (address or URL; default
// 127.0.0.1:$PORT) or, when none answers, the registry's deploy tags, and
// on the registry, time series, captures and monitoring history of the
// configuration's home. close releases what it opened.
func ReadOnlyUI(ctx context.Context, c config.Config, bridge string) (_ http.Handler, close func(), err error) {
	s, err := c.UI()
	if err != nil {
		return nil, nil, err
	}
	bridge = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(bridge, "http://"), "https://"), "/")
	var closers []func()
	close = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	defer func() {
		if err != nil {
			close()
		}
	}()
	reg, st, closeReg, err := OpenRegistry(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	closers = append(closers, closeReg)
	t, err := NewTarget(ctx, c, nil, nil, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	opts := ui.Options{
		Status:   bridgeapp.RemoteStatus{Addr: RunAddr(c, bridge), Registry: reg, Target: t},
		Registry: reg,
		Series:   &tsdb.Follower{Path: s.SeriesPath, Every: 5 * time.Second},
		Refresh:  s.Refresh,
		ReadOnly: "bridge ui is read-only; actions are on bridge run's dashboard (/ui/ on its router address)",
		Captures: ui.CaptureDir{Root: c.Monitoring.CaptureDir},
	}
	mdb := StoreDB(st)
	if mdb == nil {
		if mdb, err = OpenMonitorDB(c.Home); err != nil {
			return nil, nil, err
		}
		closers = append(closers, func() { mdb.Close() })
	}
	if opts.Monitor, err = bridgeapp.OpenScheduleStore(mdb); err != nil {
		return nil, nil, err
	}
	opts.Pipelines = PipelineSource(mdb)
	mux := http.NewServeMux()
	d := ui.New(opts)
	mux.Handle("/ui/", d)
	mux.Handle("/ui", d)
	mux.Handle("/{$}", http.RedirectHandler("/ui/", http.StatusFound))
	return mux, close, nil
}

// Serve serves h on ln until ctx is done, then shuts the server down
// gracefully within grace. It returns the server's error, or nil after a
// clean shutdown.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
