// Package app runs a process made of long-running parts ("runnables"): it
// starts them in the order they were added, and stops them in reverse
// order on a signal (the context), on Stop, or on the first fatal error one
// of them reports. It is bridge run's supervisor: registry, monitoring,
// Python runtime, deploy target, reconcile loop, registry API and front door
// are each one Runnable.
//
// Adding a part to bridge run is one Add call in its wiring; the part
// implements Runnable, or is adapted with Func, Background or Server.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Runnable is one long-running part of the process.
type Runnable interface {
	// Start starts the part and returns once it runs (a listener is open,
	// a goroutine is started). A part that later fails for good calls
	// fatal, which stops the whole process. ctx is cancelled when the
	// process stops.
	Start(ctx context.Context, fatal func(error)) error
	// Stop stops the part and releases what it holds; ctx bounds the time
	// it may take (the drain timeout). Stop is called once, also for a
	// part whose Start was never called (a later part failed to build),
	// so it must cope with that.
	Stop(ctx context.Context) error
}

// DefaultDrainTimeout bounds a whole stop: in-flight requests finish,
// models drain, buffers flush.
const DefaultDrainTimeout = 30 * time.Second

// Manager starts and stops runnables. The zero value is not usable; call
// New.
type Manager struct {
	log   *slog.Logger
	drain time.Duration

	mu      sync.Mutex
	parts   []part
	started int // parts[:started] were started
	err     error
	stopped bool

	stop chan struct{} // closed by Stop or a fatal error
	done chan struct{} // closed once every part has stopped
	once sync.Once
}

type part struct {
	name string
	r    Runnable
}

// New returns a Manager that allows drain for a whole stop (0 means
// DefaultDrainTimeout).
func New(log *slog.Logger, drain time.Duration) *Manager {
	if log == nil {
		log = slog.Default()
	}
	if drain <= 0 {
		drain = DefaultDrainTimeout
	}
	return &Manager{log: log, drain: drain, stop: make(chan struct{}), done: make(chan struct{})}
}

// Add appends a part; it starts after the parts added before it and stops
// before them. Add after Start panics.
func (m *Manager) Add(name string, r Runnable) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started > 0 || m.stopped {
		panic("app: Add after Start: " + name)
	}
	m.parts = append(m.parts, part{name, r})
}

// Start starts every part in order. If one fails to start, the parts
// already started and every part added are stopped (in reverse order) and
// its error is returned. Once started, the manager stops everything when
// ctx is done, Stop is called or a part reports a fatal error; Wait
// returns after that.
func (m *Manager) Start(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	for i, p := range m.snapshot() {
		name := p.name
		fatal := func(err error) {
			if err == nil {
				return
			}
			m.setErr(fmt.Errorf("%s: %w", name, err))
			m.Stop()
		}
		if err := p.r.Start(runCtx, fatal); err != nil {
			m.mu.Lock()
			m.started = i
			m.mu.Unlock()
			cancel()
			m.Shutdown(context.Background())
			return fmt.Errorf("start %s: %w", name, err)
		}
		m.mu.Lock()
		m.started = i + 1
		m.mu.Unlock()
		m.log.Debug("started", "part", name)
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-m.stop:
		}
		cancel()
		m.Shutdown(context.Background())
	}()
	return nil
}

// Run starts the parts and blocks until they have stopped (see Start and
// Wait).
func (m *Manager) Run(ctx context.Context) error {
	if err := m.Start(ctx); err != nil {
		return err
	}
	return m.Wait()
}

// Stop asks the manager to stop every part; Wait returns once they have.
// It never blocks.
func (m *Manager) Stop() {
	m.once.Do(func() { close(m.stop) })
}

// Wait blocks until every part has stopped and returns the first fatal
// error (nil after a signal or Stop).
func (m *Manager) Wait() error {
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Err returns the first fatal error so far.
func (m *Manager) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Shutdown stops every part in reverse order within the drain timeout
// (counted from the call; ctx may shorten it) and returns the errors the
// parts' Stop returned, joined. Only the first call acts; later calls wait
// for it.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		<-m.done
		return nil
	}
	m.stopped = true
	parts := append([]part(nil), m.parts...)
	m.mu.Unlock()
	m.Stop()
	ctx, cancel := context.WithTimeout(ctx, m.drain)
	defer cancel()
	var errs []error
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if err := p.r.Stop(ctx); err != nil {
			m.log.Warn("stop", "part", p.name, "err", err)
			errs = append(errs, fmt.Errorf("stop %s: %w", p.name, err))
		} else {
			m.log.Debug("stopped", "part", p.name)
		}
	}
	close(m.done)
	return errors.Join(errs...)
}

func (m *Manager) snapshot() []part {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]part(nil), m.parts...)
}

func (m *Manager) setErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil {
		m.err = err
	}
}
