package mlflow

import "testing"

func TestServingVersions(t *testing.T) {
	cases := []struct {
		name string
		vs   []ModelVersion
		want string
	}{
		{"none", nil, ""},
		{"archived and unstaged", []ModelVersion{{Version: "1", CurrentStage: "Archived"}, {Version: "2", CurrentStage: "None"}}, ""},
		{"stage and alias", []ModelVersion{{Version: "3", CurrentStage: "Production", Aliases: []string{"champion"}}, {Version: "1", CurrentStage: "Staging"}},
			"version 1 (Staging), version 3 (Production, alias champion)"},
	}
	for _, c := range cases {
		if got := ServingVersions(c.vs); got != c.want {
			t.Errorf("%s: ServingVersions = %q, want %q", c.name, got, c.want)
		}
	}
}
