package demo

import (
	"fmt"
	"io"

	"github.com/bridgeops/bridge/internal/model"
)

// Guide is what the demo prints once the example model is served: curl
// commands for its endpoints, promotion, and the bridge commands to look.
type Guide struct {
	Target    string // the deploy target's name
	RouterURL string // the front door
	// InvocationsName is the SageMaker-style endpoint name of the
	// Production slot when the router serves /endpoints/NAME/invocations,
	// else empty.
	InvocationsName string
	// RegistryURL is the embedded registry's API, empty when the registry
	// is another server.
	RegistryURL string
	// Bridge is the command line that calls bridge with the same home, and
	// RouterAddr the address to pass as --addr.
	Bridge, RouterAddr string
	// DashboardURL is the dashboard's address, empty when it is off.
	DashboardURL string
}

// rows are three Iris flowers, one of each species.
const rows = `[[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]]`

// Write prints the guide for the endpoints eps (by slot).
func (g Guide) Write(w io.Writer, eps map[string]Endpoint) {
	body := `{"dataframe_split": {"columns": ["sepal_length", "sepal_width", "petal_length", "petal_width"], "data": ` + rows + `}}`
	fmt.Fprintf(w, "\nBridge is serving the example model %q (%s target).\n\n", ModelName, g.Target)
	for _, slot := range []string{model.StageProduction, model.StageStaging} {
		ep, ok := eps[slot]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "# Ask the %s endpoint (the X-Bridge-Model-Version header names the version that answered):\n", slot)
		fmt.Fprintf(w, "curl -i -X POST %s \\\n  -H 'Content-Type: application/json' \\\n  -d '%s'\n\n", ep.URL, body)
	}
	if g.InvocationsName != "" {
		fmt.Fprintf(w, "# The same endpoint, SageMaker-runtime style, with CSV rows:\n")
		fmt.Fprintf(w, "curl -X POST %s/endpoints/%s/invocations -H 'Content-Type: text/csv' --data-binary $'5.1,3.5,1.4,0.2\\n6.3,3.3,6.0,2.5'\n\n", g.RouterURL, g.InvocationsName)
	}
	if g.RegistryURL != "" {
		// Only while a version is left in Staging (not after it was
		// promoted, on a restart).
		if st := eps[model.StageStaging]; len(st.Versions) > 0 {
			fmt.Fprintf(w, "# Promote the Staging version to Production (archiving the old one); the endpoint follows within a second:\n")
			fmt.Fprintf(w, "curl -X POST %s/api/2.0/mlflow/model-versions/transition-stage -H 'Content-Type: application/json' \\\n  -d '{\"name\": %q, \"version\": \"%d\", \"stage\": \"Production\", \"archive_existing_versions\": true}'\n\n", g.RegistryURL, ModelName, st.Versions[len(st.Versions)-1])
		}
		fmt.Fprintf(w, "# What the registry records (bridge_deploy_state, bridge_deploy_url tags):\n")
		fmt.Fprintf(w, "curl '%s/api/2.0/mlflow/model-versions/search?filter=name%%3D%%27%s%%27'\n\n", g.RegistryURL, ModelName)
	}
	fmt.Fprintf(w, "# Everything served, and what the next pass would change:\n")
	fmt.Fprintf(w, "%s status --addr %s\n%s plan --addr %s\n\n", g.Bridge, g.RouterAddr, g.Bridge, g.RouterAddr)
	if g.DashboardURL != "" {
		fmt.Fprintf(w, "Dashboard: %s\n", g.DashboardURL)
	}
	fmt.Fprintf(w, "Metrics: %s/metrics   Stop with Ctrl-C.\n", g.RouterURL)
}
