package target

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// plain has no account-level resources; withAccount does, and records
// what was asked of it.
type plain struct{ Target }

type withAccount struct {
	Target
	calls *[]string
	fail  error
}

func (w withAccount) Init(ctx context.Context) error {
	*w.calls = append(*w.calls, "init")
	return w.fail
}

func (w withAccount) Destroy(ctx context.Context) error {
	*w.calls = append(*w.calls, "destroy")
	return w.fail
}

func TestInitOrDestroy(t *testing.T) {
	var calls []string
	var fail error
	Register("test-plain", func(ctx context.Context, deps Deps) (Target, error) { return plain{}, nil })
	Register("test-account", func(ctx context.Context, deps Deps) (Target, error) {
		return withAccount{calls: &calls, fail: fail}, nil
	})
	tests := []struct {
		name      string
		kind      string
		create    bool
		fail      error
		wantOut   string
		wantErr   string
		wantCalls string
	}{
		{"init", "test-account", true, nil, "test-account: initialised\n", "", "init"},
		{"destroy", "test-account", false, nil, "test-account: destroyed\n", "", "destroy"},
		{"nothing to do", "test-plain", true, nil, "test-plain: nothing to do\n", "", ""},
		{"init fails", "test-account", true, errors.New("AccessDenied"), "", "init test-account: AccessDenied", "init"},
		{"destroy fails", "test-account", false, errors.New("AccessDenied"), "", "destroy test-account: AccessDenied", "destroy"},
		{"unknown kind", "lambda", true, nil, "", `unknown deploy target kind "lambda"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, fail = nil, tt.fail
			var out strings.Builder
			err := InitOrDestroy(context.Background(), &out, Deps{}, tt.kind, tt.create)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.wantOut || strings.Join(calls, ",") != tt.wantCalls {
				t.Fatalf("out %q, calls %v; want %q, %s", out.String(), calls, tt.wantOut, tt.wantCalls)
			}
		})
	}
}
