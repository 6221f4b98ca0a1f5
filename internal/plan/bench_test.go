package plan

import (
	"fmt"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
)

// fleet builds the registry view of n models with 10 versions each:
// v1..v7 Archived, v8 Staging, v9 Production (alias champion), v10 None.
func fleet(n int) []model.ModelVersion {
	out := make([]model.ModelVersion, 0, n*10)
	for m := 0; m < n; m++ {
		name := fmt.Sprintf("model-%04d", m)
		for v := 1; v <= 10; v++ {
			mv := model.ModelVersion{Name: name, Version: v, Source: fmt.Sprintf("file:///models/%s/%d", name, v), Stage: model.StageArchived}
			switch v {
			case 8:
				mv.Stage = model.StageStaging
			case 9:
				mv.Stage = model.StageProduction
				mv.Aliases = []string{"champion"}
			case 10:
				mv.Stage = model.StageNone
			}
			out = append(out, mv)
		}
	}
	return out
}

// inSync is the actual state of a target that serves desired exactly.
func inSync(d model.Desired) model.Actual {
	var a model.Actual
	for _, v := range d.Versions {
		a.Versions = append(a.Versions, model.ActualVersion{Ref: v.Ref, Status: model.StatusReady})
	}
	for _, e := range d.Endpoints {
		a.Endpoints = append(a.Endpoints, model.ActualEndpoint{Key: e.Key, Versions: e.Versions, Status: model.StatusReady})
	}
	return a
}

// BenchmarkPlan measures Plan on 1,000 models x 10 versions, with nothing to
// do and with 1% of the models promoted (v10 to Production with archive).
func BenchmarkPlan(b *testing.B) {
	const models = 1000
	versions := fleet(models)
	desired := model.DesiredFrom(versions)
	actual := inSync(desired)

	changedVersions := append([]model.ModelVersion(nil), versions...)
	changed := 0
	for i := range changedVersions {
		mv := &changedVersions[i]
		if (mv.Version == 9 || mv.Version == 10) && (i/10)%100 == 0 {
			if mv.Version == 9 {
				mv.Stage = model.StageArchived
			} else {
				mv.Stage = model.StageProduction
				changed++
			}
		}
	}
	changedDesired := model.DesiredFrom(changedVersions)

	for _, bc := range []struct {
		name    string
		desired model.Desired
		want    int
	}{
		{"no-change", desired, 0},
		// Each promoted model: route Production, delete Latest endpoint.
		{"1pct-changed", changedDesired, 2 * changed},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if n := len(Plan(bc.desired, actual)); n != bc.want {
				b.Fatalf("plan has %d actions, want %d", n, bc.want)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Plan(bc.desired, actual)
			}
		})
	}
}
