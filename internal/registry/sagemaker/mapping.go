package sagemaker

import (
	"sort"
	"time"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
)

// TagApprovalStatus is the version tag that carries a package's
// ModelApprovalStatus in Versions, under the name a pipeline's
// RegisterModel step gives it on MLflow registries (the dashboard reads it).
const TagApprovalStatus = "sagemaker_model_approval_status"

// Approval statuses of a model package.
const (
	Approved = "Approved"
	Pending  = "PendingManualApproval"
	Rejected = "Rejected"
)

// Summary is one package version of a group, as ListModelPackages reports it.
type Summary struct {
	Group       string
	Version     int
	ARN         string
	Approval    string
	Description string
	Created     time.Time
	// Status is the ModelPackageStatus: only Completed packages (or ones
	// whose status is not reported) are served.
	Status string
}

// servable reports whether a package may back an endpoint: not Rejected,
// and not Pending, InProgress, Failed or Deleting.
func servable(p Summary) bool {
	return p.Approval != Rejected && (p.Status == "" || p.Status == "Completed")
}

// Versions maps one group's packages to registry versions: each slot rule
// points its slot (as an alias) at the newest package whose approval status
// matches ("*": any status but Rejected); Rejected packages, and packages
// whose ModelPackageStatus is not Completed, are never served. Every package comes out in stage Archived, so that only the slot
// rules decide what is served. meta gives a package's
// CustomerMetadataProperties (the deploy state tags).
func Versions(pkgs []Summary, rules []config.SlotRule, meta func(arn string) map[string]string) []model.ModelVersion {
	sorted := append([]Summary(nil), pkgs...)
	// Newest first: by version, which SageMaker numbers in creation order
	// (creation time breaks no ties a version would not).
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Version > sorted[j].Version })
	slots := make(map[int][]string, len(rules))
	for _, r := range rules {
		for _, p := range sorted {
			if !servable(p) {
				continue
			}
			if r.Status == "*" || r.Status == p.Approval {
				slots[p.Version] = append(slots[p.Version], r.Slot)
				break
			}
		}
	}
	out := make([]model.ModelVersion, 0, len(sorted))
	for i := len(sorted) - 1; i >= 0; i-- {
		p := sorted[i]
		tags := map[string]string{}
		if meta != nil {
			for k, v := range meta(p.ARN) {
				tags[k] = v
			}
		}
		if p.Approval != "" {
			tags[TagApprovalStatus] = p.Approval
		}
		out = append(out, model.ModelVersion{
			Name: p.Group, Version: p.Version, Source: p.ARN, Stage: model.StageArchived,
			Aliases: slots[p.Version], Tags: tags, Description: p.Description, Created: p.Created, Updated: p.Created,
		})
	}
	return out
}
