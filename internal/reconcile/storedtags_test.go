package reconcile

import (
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/plan"
)

type upperStorer struct{}

func (upperStorer) StoredTagValue(key, value string) string { return strings.ToUpper(value) }

func TestSettledDropsStoredValues(t *testing.T) {
	v1 := model.VersionRef{Model: "churn", Version: 1}
	v2 := model.VersionRef{Model: "churn", Version: 2}
	versions := []model.DesiredVersion{
		{Ref: v1, Tags: map[string]string{model.TagDeployState: "DEPLOYED", model.TagDeployURL: "HTTP://H/A,B"}},
		{Ref: v2, Tags: map[string]string{model.TagDeployURL: "HTTP://H/OLD"}},
	}
	ops := func() []plan.TagOp {
		return []plan.TagOp{
			{Ref: v1, Set: map[string]string{model.TagDeployURL: "http://h/a,b"}},
			{Ref: v2, Set: map[string]string{model.TagDeployURL: "http://h/new", model.TagDeployState: "DEPLOYED"}, Delete: []string{model.TagDeployError}},
		}
	}
	for _, tc := range []struct {
		name string
		reg  any
		want int // ops left
		sets int // values left to set
	}{
		{"registry keeping values as given", struct{}{}, 2, 3},
		{"registry storing another form", upperStorer{}, 1, 2},
	} {
		got := settled(ops(), versions, tc.reg)
		sets := 0
		for _, op := range got {
			sets += len(op.Set)
		}
		if len(got) != tc.want || sets != tc.sets {
			t.Errorf("%s: %v, want %d ops setting %d values", tc.name, got, tc.want, tc.sets)
		}
	}
}
