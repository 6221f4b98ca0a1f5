package sagemaker

import (
	"strings"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/sgname"
)

// Endpoints made by the original (Python) Bridge keep the stage's case:
// brdg-wine-Production where Bridge names it brdg-wine-production.
// SageMaker names are unique regardless of case, so Bridge cannot create
// its own spelling next to such an endpoint: it adopts it instead. The
// endpoint is recognised as Bridge's, updated in place and deleted under
// its own name, and its URL keeps its case (InvokeEndpoint matches case).

// caseTwin decodes an endpoint name that is Bridge's own name for an
// endpoint in another case.
func caseTwin(name string) (model.EndpointKey, bool) {
	key, ok := sgname.ParseEndpoint(strings.ToLower(name))
	if !ok || !strings.EqualFold(name, sgname.Endpoint(key)) {
		return model.EndpointKey{}, false
	}
	return key, true
}

// adoptAll records, from one Observe, the names under which endpoints
// exist: those that differ from Bridge's own are adopted (and logged once);
// endpoints that are gone are forgotten, so a new one gets Bridge's name.
func (t *Target) adoptAll(names map[model.EndpointKey]string) {
	fresh := map[string]string{}
	for key, name := range names {
		if own := sgname.Endpoint(key); name != own {
			fresh[own] = name
		}
	}
	t.mu.Lock()
	old := t.adopted
	t.adopted = fresh
	t.mu.Unlock()
	for own, name := range fresh {
		if old[own] != name {
			t.log.Info("adopting an endpoint whose name differs from Bridge's only in case; it is updated in place, never recreated", "endpoint", name, "bridge_name", own)
		}
	}
}

// endpointName is the SageMaker name of key's endpoint: the name of an
// adopted endpoint, else Bridge's.
func (t *Target) endpointName(key model.EndpointKey) string {
	own := sgname.Endpoint(key)
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.adopted[own]; ok {
		return n
	}
	return own
}
