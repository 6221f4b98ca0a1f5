package bridgerun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/netaddr"
	"github.com/bridgeops/bridge/internal/plan"
	"github.com/bridgeops/bridge/internal/reconcile"
	"github.com/bridgeops/bridge/internal/status"
	"github.com/bridgeops/bridge/internal/target"
)

// Observe returns what the configured target serves. Targets with a router
// (localhost) keep their models inside the bridge run process, so it is
// asked over HTTP at addr; status.ErrNotRunning means it did not answer.
// Other targets are observed directly.
func Observe(ctx context.Context, c config.Config, addr string) (status.Doc, target.Target, error) {
	t, err := NewTarget(ctx, c, nil, nil, nil, nil)
	if err != nil {
		return status.Doc{}, nil, err
	}
	if pb, ok := t.(target.ProcessBound); !ok || !pb.ProcessBound() {
		a, err := t.Observe(ctx)
		if err != nil {
			return status.Doc{}, t, fmt.Errorf("observe %s target: %w", t.Name(), err)
		}
		return status.FromActual(t.Name(), a), t, nil
	}
	doc, err := status.Fetch(ctx, RunAddr(c, addr))
	return doc, t, err
}

// RunAddr is where bridge run listens: addr (--addr), else 127.0.0.1:$PORT.
func RunAddr(c config.Config, addr string) string {
	if addr == "" {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port))
	}
	return netaddr.Dialable(addr)
}

// CurrentStatus is what bridge status shows: the target's view, or, when
// bridge run is not answering, the registry's deploy tags (with a note on
// warn).
func CurrentStatus(ctx context.Context, c config.Config, addr string, warn io.Writer) (status.Doc, error) {
	doc, t, err := Observe(ctx, c, addr)
	if err == nil || !errors.Is(err, status.ErrNotRunning) {
		return doc, err
	}
	fmt.Fprintf(warn, "%v; showing the deploy tags the registry records (start it with: bridge run)\n", err)
	reg, _, closeReg, rerr := OpenRegistry(ctx, c)
	if rerr != nil {
		return status.Doc{}, rerr
	}
	defer closeReg()
	versions, rerr := reg.Versions(ctx)
	if rerr != nil {
		return status.Doc{}, fmt.Errorf("read registry: %w", rerr)
	}
	return status.FromTags(t, versions), nil
}

// Plan reads the registry and the target and plans, changing nothing: what
// bridge plan prints. When bridge run does not answer at addr (localhost),
// it plans against a target that serves nothing, with a note on warn.
func Plan(ctx context.Context, c config.Config, addr string, warn io.Writer) (plan.Report, error) {
	doc, t, err := Observe(ctx, c, addr)
	switch {
	case errors.Is(err, status.ErrNotRunning):
		fmt.Fprintf(warn, "%v: planning against a %s target that serves nothing\n", err, t.Name())
		doc = status.Doc{}
	case err != nil:
		return plan.Report{}, err
	}
	reg, _, closeReg, err := OpenRegistry(ctx, c)
	if err != nil {
		return plan.Report{}, err
	}
	defer closeReg()
	// The same engine as bridge run's loop, on what the target serves.
	loop, err := reconcile.New(reconcile.Options{Registry: reg, Target: observed{t, doc.Actual()}})
	if err != nil {
		return plan.Report{}, err
	}
	pv, err := loop.Preview(ctx)
	if err != nil {
		return plan.Report{}, err
	}
	return plan.NewReport(t.Name(), pv.Actions, pv.Tags), nil
}

// observed is a target seen through what it reported (GET /status of the
// bridge run that holds it, or one Observe): planning changes nothing.
type observed struct {
	target.Target
	actual model.Actual
}

func (o observed) Observe(context.Context) (model.Actual, error) { return o.actual, nil }
