package bridgeapp

import (
	"context"
	"errors"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflow"
	regsm "github.com/bridgeops/bridge/internal/registry/sagemaker"
	"github.com/bridgeops/bridge/internal/ui"
)

type fakeApprover struct {
	calls []string
	err   error
}

func (f *fakeApprover) SetApproval(_ context.Context, ref model.VersionRef, status, _ string) (string, error) {
	f.calls = append(f.calls, ref.String()+"="+status)
	return "arn", f.err
}

func TestPackageActions(t *testing.T) {
	f := &fakeApprover{}
	var a ui.Actions = PackageActions{Registry: f}
	if k, ok := a.(ui.ActionKinds); !ok || len(k.ActionKinds()) != 1 || k.ActionKinds()[0] != "approve" {
		t.Fatalf("package actions offer %v", a)
	}
	if err := a.(ui.Approver).Approve(context.Background(), "churn", 3); err != nil || len(f.calls) != 1 || f.calls[0] != (model.VersionRef{Model: "churn", Version: 3}).String()+"=Approved" {
		t.Fatalf("approve: %v %v", err, f.calls)
	}
	for name, err := range map[string]error{
		"transition": a.TransitionStage(context.Background(), "churn", 3, "Production", false),
		"alias":      a.SetAlias(context.Background(), "churn", "champion", 3),
		"tag":        a.SetVersionTag(context.Background(), "churn", 3, "k", "v"),
	} {
		if !errors.Is(err, errPackages) {
			t.Errorf("%s: %v, want a refusal", name, err)
		}
	}
	f.err = errors.New("AccessDeniedException")
	if err := a.(ui.Approver).Approve(context.Background(), "churn", 3); err == nil {
		t.Fatal("approve error lost")
	}
	// The approval status as the dashboard reads it is the pipeline's tag.
	if regsm.TagApprovalStatus != ui.ApprovalTag {
		t.Fatalf("package approval tag %q, dashboard's %q", regsm.TagApprovalStatus, ui.ApprovalTag)
	}
}

func TestActionsFor(t *testing.T) {
	if _, ok := ActionsFor(&regsm.Registry{}, nil, "t", 0).(PackageActions); !ok {
		t.Error("SageMaker package registry: not package actions")
	}
	if _, ok := ActionsFor(mlflow.NewClient("http://127.0.0.1:5000", "t", nil), func() string { return "" }, "t", 0).(RegistryActions); !ok {
		t.Error("MLflow registry: not registry actions")
	}
}
