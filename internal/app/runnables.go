package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Func is a Runnable made of two functions; either may be nil. OnStop runs
// even when OnStart never ran (see Runnable.Stop).
type Func struct {
	OnStart func(ctx context.Context) error
	OnStop  func(ctx context.Context) error
}

// Start implements Runnable.
func (f Func) Start(ctx context.Context, _ func(error)) error {
	if f.OnStart == nil {
		return nil
	}
	return f.OnStart(ctx)
}

// Stop implements Runnable.
func (f Func) Stop(ctx context.Context) error {
	if f.OnStop == nil {
		return nil
	}
	return f.OnStop(ctx)
}

// Closer is a part that holds a resource opened while building the
// process (a database, a runtime's child processes) and only needs
// releasing at the end.
func Closer(close func(ctx context.Context) error) Runnable { return Func{OnStop: close} }

// Background runs run in a goroutine until the process stops: Stop cancels
// its context and waits for it to return. An error returned before that is
// fatal. after, if not nil, runs once run has returned after a clean stop
// (it is not called when run never started).
func Background(run func(ctx context.Context) error, after func(ctx context.Context) error) Runnable {
	return &background{run: run, after: after}
}

type background struct {
	run, after func(ctx context.Context) error
	cancel     context.CancelFunc
	done       chan struct{}
}

func (b *background) Start(ctx context.Context, fatal func(error)) error {
	ctx, b.cancel = context.WithCancel(ctx)
	b.done = make(chan struct{})
	go func() {
		defer close(b.done)
		if err := b.run(ctx); err != nil && ctx.Err() == nil {
			fatal(err)
		}
	}()
	return nil
}

func (b *background) Stop(ctx context.Context) error {
	if b.cancel == nil {
		return nil // never started
	}
	b.cancel()
	select {
	case <-b.done:
	case <-ctx.Done():
		return fmt.Errorf("still running after the drain timeout: %w", ctx.Err())
	}
	if b.after != nil {
		return b.after(ctx)
	}
	return nil
}

// Server serves h on ln. Stop closes the listener and waits for in-flight
// requests to finish (http.Server.Shutdown) within the drain timeout. ln is
// closed by Stop even if the server never started.
func Server(ln net.Listener, h http.Handler) Runnable {
	return &server{ln: ln, srv: NewHTTPServer(h)}
}

// NewHTTPServer is an http.Server with the timeouts every Bridge server
// uses.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
}

type server struct {
	ln      net.Listener
	srv     *http.Server
	started bool
	wg      sync.WaitGroup
}

func (s *server) Start(ctx context.Context, fatal func(error)) error {
	s.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fatal(fmt.Errorf("serve %s: %w", s.ln.Addr(), err))
		}
	}()
	return nil
}

func (s *server) Stop(ctx context.Context) error {
	if !s.started {
		return s.ln.Close()
	}
	err := s.srv.Shutdown(ctx)
	s.wg.Wait()
	return err
}
