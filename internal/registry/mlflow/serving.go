package mlflow

import (
	"context"
	"sort"
	"strings"

	"github.com/bridgeops/bridge/internal/model"
)

// VersionsOf returns every version of the registered model name.
func (c *Client) VersionsOf(ctx context.Context, name string) ([]ModelVersion, error) {
	return c.AllModelVersions(ctx, SearchOptions{Filter: "name = '" + strings.ReplaceAll(name, "'", "''") + "'", MaxResults: 1000})
}

// ServingVersions describes the versions of vs that endpoints serve (in
// Staging or Production, or with an alias), e.g. "version 2 (Production,
// alias champion)"; "" when none is served.
func ServingVersions(vs []ModelVersion) string {
	var parts []string
	for _, v := range vs {
		var why []string
		if v.CurrentStage == model.StageStaging || v.CurrentStage == model.StageProduction {
			why = append(why, v.CurrentStage)
		}
		for _, a := range v.Aliases {
			why = append(why, "alias "+a)
		}
		if len(why) > 0 {
			parts = append(parts, "version "+v.Version+" ("+strings.Join(why, ", ")+")")
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
