package cliargs

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
)

func TestKeyValues(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    map[string]string
		wantErr string
	}{
		{"none", nil, map[string]string{}, ""},
		{"pairs", []string{"team=ml", "owner=ana"}, map[string]string{"team": "ml", "owner": "ana"}, ""},
		{"empty value", []string{"validated="}, map[string]string{"validated": ""}, ""},
		{"value with =", []string{"expr=a=b"}, map[string]string{"expr": "a=b"}, ""},
		{"last wins", []string{"k=1", "k=2"}, map[string]string{"k": "2"}, ""},
		{"no =", []string{"team"}, nil, `--tag "team": want KEY=VALUE`},
		{"empty key", []string{"=ml"}, nil, `--tag "=ml": want KEY=VALUE`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KeyValues(tt.in, "--tag", "KEY=VALUE")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !maps.Equal(got, tt.want) {
				t.Fatalf("KeyValues = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"1", 1, true},
		{"42", 42, true},
		{"0", 0, false},
		{"-3", 0, false},
		{"latest", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := Version(tt.in)
		if tt.ok {
			if err != nil || got != tt.want {
				t.Errorf("Version(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "versions are the numbers bridge models show prints") {
			t.Errorf("Version(%q) = %d, %v; want an error with the hint", tt.in, got, err)
		}
	}
}

func TestRegistryHint(t *testing.T) {
	missingModel := &mlflow.Error{StatusCode: 404, Code: "RESOURCE_DOES_NOT_EXIST", Message: "Registered Model with name=iris not found"}
	missingVersion := &mlflow.Error{StatusCode: 404, Code: "RESOURCE_DOES_NOT_EXIST", Message: "Model Version (name=iris, version=9) not found"}
	other := errors.New("connection refused")
	tests := []struct {
		name     string
		err      error
		wantHint bool
	}{
		{"missing model", missingModel, true},
		{"missing version", missingVersion, false},
		{"other error", other, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RegistryHint(tt.err, "iris")
			if !errors.Is(got, tt.err) {
				t.Fatalf("RegistryHint lost the error: %v", got)
			}
			hint := got != nil && strings.Contains(got.Error(), "(create it with: bridge models create iris)")
			if hint != tt.wantHint {
				t.Fatalf("RegistryHint(%v) = %v; hint %v, want %v", tt.err, got, hint, tt.wantHint)
			}
		})
	}
}
