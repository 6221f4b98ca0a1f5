package ui

import (
	"context"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/model"
)

// readTTL is how long a read of the serving state or the registry serves
// every page: open tabs refresh every few seconds, and the target (the
// SageMaker API) and an external registry should not see one read per tab.
const readTTL = 2 * time.Second

// cached remembers one read for readTTL; concurrent callers wait for the
// read in flight instead of starting their own.
type cached[T any] struct {
	mu  sync.Mutex
	at  time.Time
	val T
	err error
}

func (c *cached[T]) get(ctx context.Context, now time.Time, read func(context.Context) (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && now.Sub(c.at) < readTTL && now.Sub(c.at) >= 0 {
		return c.val, c.err
	}
	val, err := read(ctx)
	if ctx.Err() != nil { // this caller gave up: not an answer for the others
		return val, err
	}
	c.val, c.err, c.at = val, err, now
	return val, err
}

// reset forgets the remembered read.
func (c *cached[T]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = time.Time{}
}

type cachedStatus struct {
	src StatusSource
	now func() time.Time
	c   cached[Snapshot]
}

func (s *cachedStatus) Snapshot(ctx context.Context) (Snapshot, error) {
	return s.c.get(ctx, s.now(), s.src.Snapshot)
}

type cachedRegistry struct {
	src Registry
	now func() time.Time
	c   cached[[]model.ModelVersion]
}

func (r *cachedRegistry) Versions(ctx context.Context) ([]model.ModelVersion, error) {
	return r.c.get(ctx, r.now(), r.src.Versions)
}
