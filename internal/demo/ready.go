package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/bridgeops/bridge/internal/model"
)

// Endpoint is one endpoint of the example model: its URL and the versions
// it serves.
type Endpoint struct {
	URL      string
	Versions []int
}

// Deployment is what WaitDeployed watches: the registry's versions, the
// last reconcile pass, and where the target serves an endpoint.
type Deployment struct {
	Versions func(context.Context) ([]model.ModelVersion, error)
	// LastPass returns when the last finished pass started and whether it
	// succeeded.
	LastPass func() (started time.Time, ok bool)
	URL      func(model.EndpointKey) string
}

// WaitDeployed polls until a reconcile pass that started after since has
// finished and every served version of m is DEPLOYED, and returns its
// endpoints by slot. A FAILED version ends the wait with its reason.
func WaitDeployed(ctx context.Context, d Deployment, m string, since time.Time, timeout time.Duration) (map[string]Endpoint, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if started, ok := d.LastPass(); ok && !started.Before(since) {
			if urls, done, err := deployed(ctx, d, m); err != nil || done {
				return urls, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the example model was not deployed within %s (see the log above, or run: bridge status)", timeout)
		case <-tick.C:
		}
	}
}

// deployed reports whether every served version of m is DEPLOYED and, if
// so, m's endpoints by slot.
func deployed(ctx context.Context, d Deployment, m string) (map[string]Endpoint, bool, error) {
	versions, err := d.Versions(ctx)
	if err != nil {
		return nil, false, nil // the loop reports it; keep waiting
	}
	var mine []model.ModelVersion
	for _, v := range versions {
		if v.Name == m {
			mine = append(mine, v)
		}
	}
	desired := model.DesiredFrom(mine)
	if len(desired.Versions) == 0 {
		return nil, false, nil
	}
	for _, v := range desired.Versions {
		switch v.Tags[model.TagDeployState] {
		case model.StateDeployed:
		case model.StateFailed:
			return nil, false, fmt.Errorf("%s version %d failed to deploy: %s", m, v.Ref.Version, v.Tags[model.TagDeployError])
		default:
			return nil, false, nil
		}
	}
	eps := map[string]Endpoint{}
	for _, e := range desired.Endpoints {
		ep := Endpoint{URL: d.URL(e.Key)}
		for _, w := range e.Versions {
			ep.Versions = append(ep.Versions, w.Version)
		}
		eps[e.Key.Slot] = ep
	}
	return eps, true, nil
}
