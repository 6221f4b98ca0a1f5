package plan

import (
	"strings"

	"github.com/bridgeops/bridge/internal/model"
)

// versionSteps are the error prefixes that only name the version a step
// was about ("create version churn/2: ", "load churn/2: ").
var versionSteps = []string{"create version ", "load "}

// failedReason is a failure as bridge_deploy_error says it on the version
// ref: the steps that only repeat which version it is are dropped, so the
// tag starts with the root cause (a Python exception's line, pip's error,
// the fetch that failed) and the rest keeps its context and log path.
func failedReason(ref model.VersionRef, reason string) string {
	name := ref.String() + ": "
	for {
		trimmed := false
		for _, step := range versionSteps {
			if rest, ok := strings.CutPrefix(reason, step+name); ok && strings.TrimSpace(rest) != "" {
				reason, trimmed = rest, true
			}
		}
		if !trimmed {
			return reason
		}
	}
}
