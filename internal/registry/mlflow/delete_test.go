package mlflow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/store"
)

func TestDeleteUnlessServed(t *testing.T) {
	ctx := context.Background()
	st, srv := serve(t, t.TempDir(), "")
	c := mlflow.NewClient(srv.URL, "", srv.Client())
	for _, name := range []string{"iris", "churn"} {
		if _, err := st.CreateRegisteredModel(ctx, name, "", nil); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 2; i++ {
			if _, err := st.CreateModelVersion(ctx, store.VersionSpec{Name: name, Source: "file:///m"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := st.TransitionStage(ctx, "iris", 2, "Production", false); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name    string
		run     func() error
		wantErr string
	}{
		{"served version refused", func() error { return c.DeleteVersionUnlessServed(ctx, "iris", 2, false) },
			"iris version 2 (Production) is served: move it to Archived first (bridge models transition iris 2 Archived)"},
		{"unserved version deleted", func() error { return c.DeleteVersionUnlessServed(ctx, "iris", 1, false) }, ""},
		{"missing version", func() error { return c.DeleteVersionUnlessServed(ctx, "iris", 1, false) }, "RESOURCE_DOES_NOT_EXIST"},
		{"served model refused", func() error { _, err := c.DeleteModelUnlessServed(ctx, "iris", false); return err },
			"model iris has endpoints serving version 2 (Production)"},
		{"unserved model deleted", func() error {
			n, err := c.DeleteModelUnlessServed(ctx, "churn", false)
			if err == nil && n != 2 {
				t.Errorf("churn had %d versions, want 2", n)
			}
			return err
		}, ""},
		{"missing model", func() error { _, err := c.DeleteModelUnlessServed(ctx, "churn", false); return err }, "RESOURCE_DOES_NOT_EXIST"},
		{"forced", func() error { return c.DeleteVersionUnlessServed(ctx, "iris", 2, true) }, ""},
	}
	for _, s := range steps {
		err := s.run()
		if s.wantErr == "" {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), s.wantErr) {
			t.Fatalf("%s: err = %v, want it to contain %q", s.name, err, s.wantErr)
		}
	}
	if _, err := st.GetRegisteredModel(ctx, "iris"); err != nil {
		t.Fatalf("iris should remain: %v", err)
	}
}
