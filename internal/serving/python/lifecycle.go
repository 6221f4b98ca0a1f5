package python

import (
	"context"
	"errors"
	"sync"
)

// errStopped is returned by a Runtime's Load after Stop.
var errStopped = errors.New("the Python runtime is stopped")

// lifecycle tracks what one Runtime has running, so that Stop leaves no
// child process behind and touches no other Runtime's.
type lifecycle struct {
	mu      sync.Mutex
	ctx     context.Context // cancelled by Stop: aborts loads in progress
	cancel  context.CancelFunc
	stopped bool
	loads   sync.WaitGroup     // Loads (and Interpreter calls) in progress
	procs   map[*proc]struct{} // servers of loaded models not closed yet
}

func (l *lifecycle) init() {
	l.ctx, l.cancel = context.WithCancel(context.Background())
	l.procs = map[*proc]struct{}{}
}

// enter registers a load in progress. The returned context is also
// cancelled by Stop; done must be called once the load has returned.
func (l *lifecycle) enter(ctx context.Context) (context.Context, func(), error) {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return nil, nil, errStopped
	}
	l.loads.Add(1)
	l.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	unhook := context.AfterFunc(l.ctx, cancel)
	return ctx, func() {
		unhook()
		cancel()
		l.loads.Done()
	}, nil
}

// track records the server of a loaded model until it is closed.
func (l *lifecycle) track(p *proc) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return errStopped
	}
	l.procs[p] = struct{}{}
	p.forget = func() {
		l.mu.Lock()
		delete(l.procs, p)
		l.mu.Unlock()
	}
	return nil
}

// Running reports how many model servers the runtime supervises (loaded
// models not closed yet); pre-started servers are not counted.
func (r *Runtime) Running() int {
	r.life.mu.Lock()
	defer r.life.mu.Unlock()
	return len(r.life.procs)
}

// Start implements the process manager's Runnable (internal/app): the
// runtime needs no start, but a stopped runtime cannot serve again.
func (r *Runtime) Start(context.Context, func(error)) error {
	r.life.mu.Lock()
	defer r.life.mu.Unlock()
	if r.life.stopped {
		return errStopped
	}
	return nil
}

// Stop stops the runtime for good: loads in progress are aborted, the
// pre-started servers stop and the servers of models that were never
// closed get SIGTERM (SIGKILL after their grace period or when ctx ends).
// Once it returns no child process of this runtime is left; other
// runtimes are not affected. Later Loads fail. Stop may be called more
// than once.
func (r *Runtime) Stop(ctx context.Context) error {
	l := &r.life
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.cancel()
	l.loads.Wait()
	r.spares.stop()
	l.mu.Lock()
	procs := make([]*proc, 0, len(l.procs))
	for p := range l.procs {
		procs = append(procs, p)
	}
	l.mu.Unlock()
	if len(procs) > 0 {
		r.opts.logger().Info("stopping Python model servers still running", "component", "python", "servers", len(procs))
	}
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.close(ctx)
			p.setState("stopped")
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
