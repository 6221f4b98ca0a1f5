package registrar

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/bridgeops/bridge/internal/pipeline/local"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowapi"
	"github.com/bridgeops/bridge/internal/registry/store"
)

func TestRegistersAtomically(t *testing.T) {
	for _, backend := range []string{"store", "mlflow"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var r local.Registrar = Store{St: st}
			if backend == "mlflow" {
				srv := httptest.NewServer(mlflowapi.New(st, mlflowapi.Options{}))
				defer srv.Close()
				r = MLflow{C: mlflow.NewClient(srv.URL, "", srv.Client())}
			}
			check(t, ctx, st, r)
		})
	}
}

func check(t *testing.T, ctx context.Context, st *store.Store, r local.Registrar) {
	v, err := r.Register(ctx, local.NewVersion{Model: "sts", Source: "file:///tmp/model.tar.gz", Tags: map[string]string{"model_quality.regression_metrics.mse.value": "1.5"}, Stage: "Production"})
	if err != nil || v.Version != 1 || v.Stage != "Production" {
		t.Fatalf("%+v, %v", v, err)
	}
	// A stage the registry refuses: the version created for it is removed again.
	if _, err := r.Register(ctx, local.NewVersion{Model: "sts", Source: "file:///tmp/model.tar.gz", Stage: "Bogus"}); err == nil {
		t.Fatal("want an error for stage Bogus")
	}
	// A tag the registry refuses: nothing is created.
	if _, err := r.Register(ctx, local.NewVersion{Model: "sts", Source: "file:///tmp/model.tar.gz", Tags: map[string]string{"../bad": "x"}}); err == nil {
		t.Fatal("want an error for an invalid tag key")
	}
	// A new model whose first version is refused is not left behind empty.
	if _, err := r.Register(ctx, local.NewVersion{Model: "fresh", Source: "file:///tmp/m", Tags: map[string]string{"../bad": "x"}}); err == nil {
		t.Fatal("want an error for an invalid tag key")
	}
	if _, err := st.GetRegisteredModel(ctx, "fresh"); err == nil {
		t.Error("model fresh left behind by a failed registration")
	}
	vs, err := st.Versions(ctx)
	if err != nil || len(vs) != 1 || vs[0].Version != 1 || vs[0].Tags["model_quality.regression_metrics.mse.value"] != "1.5" {
		t.Fatalf("versions after failed registrations: %+v, %v", vs, err)
	}
}
