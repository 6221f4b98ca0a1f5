// Package sagemaker reads SageMaker model package groups as Bridge's model
// registry (BRIDGE_REGISTRY=sagemaker): a group is a model, a package
// version is a version, and slot rules (config.SlotRule; by default newest
// Approved → Production, newest PendingManualApproval → Staging, newest of
// any status → Latest, Rejected never) say which version each endpoint
// serves. Deploy outcomes are written back as the package's
// CustomerMetadataProperties bridge_deploy_state, bridge_deploy_url and
// bridge_deploy_error (UpdateModelPackage).
//
// Listings are paginated with an explicit SortOrder (newest first); the AWS
// SDK's retryer retries throttled calls with backoff
// (BRDG_DEPLOY_AWS_MAX_ATTEMPTS).
package sagemaker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/bridgeops/bridge/internal/config"
	"github.com/bridgeops/bridge/internal/model"
)

// API is the part of the SageMaker client the registry uses.
type API interface {
	ListModelPackageGroups(ctx context.Context, in *sm.ListModelPackageGroupsInput, opts ...func(*sm.Options)) (*sm.ListModelPackageGroupsOutput, error)
	DescribeModelPackageGroup(ctx context.Context, in *sm.DescribeModelPackageGroupInput, opts ...func(*sm.Options)) (*sm.DescribeModelPackageGroupOutput, error)
	ListModelPackages(ctx context.Context, in *sm.ListModelPackagesInput, opts ...func(*sm.Options)) (*sm.ListModelPackagesOutput, error)
	DescribeModelPackage(ctx context.Context, in *sm.DescribeModelPackageInput, opts ...func(*sm.Options)) (*sm.DescribeModelPackageOutput, error)
	UpdateModelPackage(ctx context.Context, in *sm.UpdateModelPackageInput, opts ...func(*sm.Options)) (*sm.UpdateModelPackageOutput, error)
}

// Registry implements registry.Registry on model package groups.
type Registry struct {
	api   API
	set   config.RegistrySettings
	log   *slog.Logger
	page  int32
	mu    sync.Mutex
	meta  map[string]map[string]string // package ARN -> CustomerMetadataProperties (as last read or written)
	arns  map[model.VersionRef]string  // version -> package ARN, from the last listing
	canon map[string]string            // named group (lower case) -> its name as created
	wakes chan struct{}
}

// New returns a registry over api with the given settings.
func New(api API, set config.RegistrySettings, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{api: api, set: set, log: log.With("component", "registry", "registry", "sagemaker"), page: 100,
		meta: map[string]map[string]string{}, arns: map[model.VersionRef]string{}, canon: map[string]string{}, wakes: make(chan struct{}, 1)}
}

// Changes implements registry.Notifier: it fires after Approve and Reject
// of this process. Changes made elsewhere are seen at the next scan, or at
// once when an EventBridge rule posts them to /hooks/registry.
func (r *Registry) Changes() <-chan struct{} { return r.wakes }

func (r *Registry) notify() {
	select {
	case r.wakes <- struct{}{}:
	default:
	}
}

// ErrNoGroup is wrapped by errors about a model package group that does
// not exist.
var ErrNoGroup = errors.New("model package group does not exist")

// ErrNoVersion is wrapped by errors about a package version that does not
// exist.
var ErrNoVersion = errors.New("model package version does not exist")

// Check verifies that every named group exists, so that a misspelt
// BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS fails at start instead of serving
// nothing.
func (r *Registry) Check(ctx context.Context) error {
	for _, g := range r.set.Groups {
		info, err := r.Group(ctx, g)
		if err != nil {
			return fmt.Errorf("%w (check %s)", err, config.EnvPackageGroups)
		}
		r.mu.Lock()
		r.canon[strings.ToLower(g)] = info.Name
		r.mu.Unlock()
	}
	return nil
}

// groupNames returns the named groups as they were created: group names
// are case-insensitive, and a group is the same model (the same endpoint
// names) however BRIDGE_SAGEMAKER_MODEL_PACKAGE_GROUPS spells it. A group
// not found keeps the name given (it lists no packages).
func (r *Registry) groupNames(ctx context.Context) ([]string, error) {
	out := make([]string, 0, len(r.set.Groups))
	for _, g := range r.set.Groups {
		r.mu.Lock()
		name, ok := r.canon[strings.ToLower(g)]
		r.mu.Unlock()
		if !ok {
			info, err := r.Group(ctx, g)
			switch {
			case errors.Is(err, ErrNoGroup):
				name = g
			case err != nil:
				return nil, err
			default:
				name = info.Name
				r.mu.Lock()
				r.canon[strings.ToLower(g)] = name
				r.mu.Unlock()
			}
		}
		out = append(out, name)
	}
	return out, nil
}

// GroupInfo describes one model package group.
type GroupInfo struct {
	Name, ARN, Description string
	Created                time.Time
}

// Group describes one group; a missing group wraps ErrNoGroup.
func (r *Registry) Group(ctx context.Context, name string) (GroupInfo, error) {
	out, err := r.api.DescribeModelPackageGroup(ctx, &sm.DescribeModelPackageGroupInput{ModelPackageGroupName: aws.String(name)})
	if err != nil {
		if isValidation(err, "does not exist") {
			return GroupInfo{}, fmt.Errorf("model package group %s: %w", name, ErrNoGroup)
		}
		return GroupInfo{}, fmt.Errorf("describe model package group %s: %w", name, err)
	}
	return GroupInfo{Name: aws.ToString(out.ModelPackageGroupName), ARN: aws.ToString(out.ModelPackageGroupArn),
		Description: aws.ToString(out.ModelPackageGroupDescription), Created: aws.ToTime(out.CreationTime)}, nil
}

// Groups lists the groups served: the named ones, else every group
// (sorted by name).
func (r *Registry) Groups(ctx context.Context) ([]GroupInfo, error) {
	if len(r.set.Groups) > 0 {
		var out []GroupInfo
		for _, g := range r.set.Groups {
			info, err := r.Group(ctx, g)
			if errors.Is(err, ErrNoGroup) {
				r.log.Warn("model package group does not exist; serving nothing from it", "group", g)
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, info)
		}
		return out, nil
	}
	var out []GroupInfo
	in := &sm.ListModelPackageGroupsInput{MaxResults: aws.Int32(r.page), SortBy: smtypes.ModelPackageGroupSortByName, SortOrder: smtypes.SortOrderAscending}
	for {
		page, err := r.api.ListModelPackageGroups(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list model package groups: %w", err)
		}
		for _, g := range page.ModelPackageGroupSummaryList {
			out = append(out, GroupInfo{Name: aws.ToString(g.ModelPackageGroupName), ARN: aws.ToString(g.ModelPackageGroupArn),
				Description: aws.ToString(g.ModelPackageGroupDescription), Created: aws.ToTime(g.CreationTime)})
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// Packages lists a group's package versions, newest first (SortBy
// CreationTime, SortOrder Descending: SageMaker's default order is
// ascending, which puts the oldest first).
func (r *Registry) Packages(ctx context.Context, group string) ([]Summary, error) {
	var out []Summary
	in := &sm.ListModelPackagesInput{ModelPackageGroupName: aws.String(group), MaxResults: aws.Int32(r.page),
		SortBy: smtypes.ModelPackageSortByCreationTime, SortOrder: smtypes.SortOrderDescending}
	for {
		page, err := r.api.ListModelPackages(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list model packages of group %s: %w", group, err)
		}
		for _, p := range page.ModelPackageSummaryList {
			if p.ModelPackageVersion == nil {
				continue // unversioned
			}
			out = append(out, Summary{Group: group, Version: int(*p.ModelPackageVersion), ARN: aws.ToString(p.ModelPackageArn),
				Approval: string(p.ModelApprovalStatus), Description: aws.ToString(p.ModelPackageDescription), Created: aws.ToTime(p.CreationTime),
				Status: string(p.ModelPackageStatus)})
		}
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, nil
}

// Versions implements registry.Registry.
func (r *Registry) Versions(ctx context.Context) ([]model.ModelVersion, error) {
	// Named groups are listed directly (Check verified them at start; a
	// group deleted since lists no packages); otherwise every group.
	names, err := r.groupNames(ctx)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		groups, err := r.Groups(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			names = append(names, g.Name)
		}
	}
	var out []model.ModelVersion
	arns := map[model.VersionRef]string{}
	for _, g := range names {
		pkgs, err := r.Packages(ctx, g)
		if err != nil {
			return nil, err
		}
		if err := r.loadMeta(ctx, pkgs); err != nil {
			return nil, err
		}
		for _, p := range pkgs {
			arns[model.VersionRef{Model: p.Group, Version: p.Version}] = p.ARN
		}
		out = append(out, Versions(pkgs, r.set.Slots, r.metaOf)...)
	}
	r.mu.Lock()
	r.arns = arns
	r.mu.Unlock()
	return out, nil
}

// loadMeta reads the CustomerMetadataProperties of packages not read
// before (ListModelPackages does not report them). Bridge is their only
// writer of the bridge_ keys, so later passes reuse what it last read or
// wrote: a pass costs one listing per group, not one call per version.
func (r *Registry) loadMeta(ctx context.Context, pkgs []Summary) error {
	for _, p := range pkgs {
		r.mu.Lock()
		_, ok := r.meta[p.ARN]
		r.mu.Unlock()
		if ok {
			continue
		}
		d, err := r.api.DescribeModelPackage(ctx, &sm.DescribeModelPackageInput{ModelPackageName: aws.String(p.ARN)})
		if err != nil {
			return fmt.Errorf("describe model package %s: %w", p.ARN, err)
		}
		m := map[string]string{}
		for k, v := range d.CustomerMetadataProperties {
			if strings.HasPrefix(k, "bridge_") {
				m[k] = v
			}
		}
		r.mu.Lock()
		r.meta[p.ARN] = m
		r.mu.Unlock()
	}
	return nil
}

func (r *Registry) metaOf(arn string) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.meta[arn]
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ARN returns a version's package ARN, from the last listing or by
// listing the group.
func (r *Registry) ARN(ctx context.Context, ref model.VersionRef) (string, error) {
	r.mu.Lock()
	arn, ok := r.arns[ref]
	r.mu.Unlock()
	if ok {
		return arn, nil
	}
	if _, err := r.Group(ctx, ref.Model); err != nil {
		return "", err
	}
	pkgs, err := r.Packages(ctx, ref.Model)
	if err != nil {
		return "", err
	}
	have := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		if p.Version == ref.Version {
			return p.ARN, nil
		}
		have = append(have, fmt.Sprint(p.Version))
	}
	if len(have) == 0 {
		return "", fmt.Errorf("model package group %s has no version %d (it has no packages): %w", ref.Model, ref.Version, ErrNoVersion)
	}
	return "", fmt.Errorf("model package group %s has no version %d (versions: %s): %w", ref.Model, ref.Version, strings.Join(have, ", "), ErrNoVersion)
}

// DownloadURI implements registry.Registry: a package version's source is
// its ARN, which the SageMaker target deploys as is and the artifact
// fetcher resolves to the package's model data (ResolvePackage).
func (r *Registry) DownloadURI(ctx context.Context, ref model.VersionRef) (string, error) {
	return r.ARN(ctx, ref)
}

// SetVersionTag implements registry.Registry: the tag becomes a
// CustomerMetadataProperties entry of the package, its value made valid
// for SageMaker by MetadataValue (StoredTagValue), which later listings
// report.
func (r *Registry) SetVersionTag(ctx context.Context, ref model.VersionRef, key, value string) error {
	arn, err := r.ARN(ctx, ref)
	if err != nil {
		return err
	}
	stored := r.StoredTagValue(key, value)
	if _, err := r.api.UpdateModelPackage(ctx, &sm.UpdateModelPackageInput{ModelPackageArn: aws.String(arn),
		CustomerMetadataProperties: map[string]string{key: stored}}); err != nil {
		return fmt.Errorf("set %s on model package %s: %w", key, arn, err)
	}
	r.remember(arn, key, &stored)
	return nil
}

// StoredTagValue implements reconcile.TagStorer: a tag value is kept as
// MetadataValue makes it, so the loop counts a package whose property
// holds that form as tagged already (in this process or another).
func (r *Registry) StoredTagValue(key, value string) string { return MetadataValue(value) }

// DeleteVersionTag implements registry.Registry.
func (r *Registry) DeleteVersionTag(ctx context.Context, ref model.VersionRef, key string) error {
	arn, err := r.ARN(ctx, ref)
	if err != nil {
		return err
	}
	if _, err := r.api.UpdateModelPackage(ctx, &sm.UpdateModelPackageInput{ModelPackageArn: aws.String(arn),
		CustomerMetadataPropertiesToRemove: []string{key}}); err != nil {
		return fmt.Errorf("remove %s from model package %s: %w", key, arn, err)
	}
	r.remember(arn, key, nil)
	return nil
}

func (r *Registry) remember(arn, key string, value *string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.meta[arn]
	if !ok {
		return // read in full at the next listing
	}
	if value == nil {
		delete(m, key)
	} else {
		m[key] = *value
	}
}

// SetApproval sets a package version's approval status (Approved,
// Rejected or PendingManualApproval) with an optional description.
func (r *Registry) SetApproval(ctx context.Context, ref model.VersionRef, status, description string) (string, error) {
	switch status {
	case Approved, Rejected, Pending:
	default:
		return "", fmt.Errorf("approval status %q: want Approved, Rejected or PendingManualApproval", status)
	}
	r.mu.Lock()
	delete(r.arns, ref) // look it up afresh: approving acts on what exists now
	r.mu.Unlock()
	arn, err := r.ARN(ctx, ref)
	if err != nil {
		return "", err
	}
	in := &sm.UpdateModelPackageInput{ModelPackageArn: aws.String(arn), ModelApprovalStatus: smtypes.ModelApprovalStatus(status)}
	if description != "" {
		in.ApprovalDescription = aws.String(description)
	}
	if _, err := r.api.UpdateModelPackage(ctx, in); err != nil {
		return "", fmt.Errorf("set approval of %s to %s: %w", arn, status, err)
	}
	r.notify()
	return arn, nil
}

// Describe returns a package version's full description.
func (r *Registry) Describe(ctx context.Context, arn string) (*sm.DescribeModelPackageOutput, error) {
	d, err := r.api.DescribeModelPackage(ctx, &sm.DescribeModelPackageInput{ModelPackageName: aws.String(arn)})
	if err != nil {
		if isValidation(err, "does not exist") {
			return nil, fmt.Errorf("model package %s: %w", arn, ErrNoVersion)
		}
		return nil, fmt.Errorf("describe model package %s: %w", arn, err)
	}
	return d, nil
}

func isValidation(err error, contains string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" && strings.Contains(ae.ErrorMessage(), contains)
}
