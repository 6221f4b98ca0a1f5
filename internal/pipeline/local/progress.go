package local

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/pipeline"
)

// Progress prints an execution's step events as bridge pipeline run's
// progress lines; with ticking on (a terminal), steps running long say
// every 10 s that they are still running. Close stops the ticking.
type Progress struct {
	out     io.Writer
	start   time.Time
	mu      sync.Mutex
	running map[string]Event // step → its Executing event
	done    chan struct{}
}

// NewProgress starts the clock of the progress lines written to out.
func NewProgress(out io.Writer, ticking bool) *Progress {
	p := &Progress{out: out, start: time.Now(), running: map[string]Event{}}
	if !ticking {
		return p
	}
	p.done = make(chan struct{})
	tick := time.NewTicker(10 * time.Second)
	go func() {
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-tick.C:
				p.mu.Lock()
				for _, e := range p.running {
					fmt.Fprintf(out, "%7.1fs  %-34s %-14s still %s (%s)\n", time.Since(p.start).Seconds(), e.Step, e.Type, e.Status,
						time.Since(e.Time).Round(time.Second))
				}
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// Event prints one step event (Options.Events).
func (p *Progress) Event(e Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Status == StatusExecuting {
		p.running[e.Step] = e
	} else {
		delete(p.running, e.Step)
	}
	detail := ""
	switch {
	case e.CacheHit && e.Status == StatusSucceeded:
		detail = "cache hit"
	case e.Outcome != "":
		detail = "outcome " + e.Outcome
	case e.Status == StatusStarting:
		return
	}
	pipeline.WriteStepLine(p.out, time.Since(p.start), e.Step, e.Type, e.Status, detail, e.Reason)
}

// Close stops the ticking.
func (p *Progress) Close() {
	if p.done != nil {
		close(p.done)
	}
}
