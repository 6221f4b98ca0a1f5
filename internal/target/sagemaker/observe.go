package sagemaker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	sm "github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/sgname"
)

// listPage is SageMaker's largest page.
const listPage = 100

// observeConcurrency is how many endpoints Observe describes at once.
const observeConcurrency = 8

// variant is one production variant of an endpoint config, decoded.
type variant struct {
	Ref    model.VersionRef
	Weight float64
}

type describedEntry struct {
	modified time.Time
	status   smtypes.EndpointStatus
	out      *sm.DescribeEndpointOutput
}

// endpointSummary is one of Bridge's endpoints as ListEndpoints reports it.
type endpointSummary struct {
	name     string
	status   smtypes.EndpointStatus
	modified time.Time
}

// listEndpoints lists every endpoint whose name starts with "brdg-".
// NameContains matches anywhere in the name, so the prefix is checked here.
func (t *Target) listEndpoints(ctx context.Context) ([]endpointSummary, error) {
	var out []endpointSummary
	p := sm.NewListEndpointsPaginator(t.sm, &sm.ListEndpointsInput{NameContains: aws.String(sgname.Prefix), MaxResults: aws.Int32(listPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list endpoints: %w", err)
		}
		for _, e := range page.Endpoints {
			if name := aws.ToString(e.EndpointName); strings.HasPrefix(name, sgname.Prefix) {
				out = append(out, endpointSummary{name, e.EndpointStatus, aws.ToTime(e.LastModifiedTime)})
			}
		}
	}
	return out, nil
}

// listModels lists the names of every "brdg-" model.
func (t *Target) listModels(ctx context.Context) ([]string, error) {
	var out []string
	p := sm.NewListModelsPaginator(t.sm, &sm.ListModelsInput{NameContains: aws.String(sgname.Prefix), MaxResults: aws.Int32(listPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list models: %w", err)
		}
		for _, m := range page.Models {
			if name := aws.ToString(m.ModelName); strings.HasPrefix(name, sgname.Prefix) {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// listConfigs lists the names of every "brdg-" endpoint config.
func (t *Target) listConfigs(ctx context.Context) ([]string, error) {
	var out []string
	p := sm.NewListEndpointConfigsPaginator(t.sm, &sm.ListEndpointConfigsInput{NameContains: aws.String(sgname.Prefix), MaxResults: aws.Int32(listPage)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list endpoint configs: %w", err)
		}
		for _, c := range page.EndpointConfigs {
			if name := aws.ToString(c.EndpointConfigName); strings.HasPrefix(name, sgname.Prefix) {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// listKeys lists the keys under a prefix of the bucket.
func (t *Target) listKeys(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	in := &s3.ListObjectsV2Input{Bucket: aws.String(t.bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	p := s3.NewListObjectsV2Paginator(t.s3, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if apiCode(err) == "NoSuchBucket" {
				return nil, &noBucketError{t.bucket}
			}
			return nil, fmt.Errorf("list s3://%s/%s: %w", t.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}

// noBucketError says the artifact bucket is missing.
type noBucketError struct{ bucket string }

func (e *noBucketError) Error() string {
	return "bucket " + e.bucket + " does not exist: run `bridge init sagemaker` with the init/destroy credentials first"
}

// describe returns DescribeEndpoint's answer, reusing the last one when
// ListEndpoints shows the endpoint unchanged since. A nil result means the
// endpoint does not exist.
func (t *Target) describe(ctx context.Context, name string, sum *endpointSummary) (*sm.DescribeEndpointOutput, error) {
	if sum != nil {
		t.mu.Lock()
		e, ok := t.described[name]
		t.mu.Unlock()
		if ok && e.status == sum.status && e.modified.Equal(sum.modified) {
			return e.out, nil
		}
	}
	out, err := t.sm.DescribeEndpoint(ctx, &sm.DescribeEndpointInput{EndpointName: aws.String(name)})
	if isNotFound(err) {
		t.forget(name)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe endpoint %s: %w", name, err)
	}
	t.mu.Lock()
	t.described[name] = describedEntry{aws.ToTime(out.LastModifiedTime), out.EndpointStatus, out}
	t.mu.Unlock()
	return out, nil
}

func (t *Target) forget(endpoint string) {
	t.mu.Lock()
	delete(t.described, endpoint)
	t.mu.Unlock()
}

// configInfo is what Bridge reads back from an endpoint config.
type configInfo struct {
	variants []variant // sorted by ref
	capacity Capacity  // of the first variant (Bridge gives all the same)
	capture  int       // data capture sampling percentage, 0 when off
	foreign  []string  // models of variants that are not Bridge's (an adopted endpoint's)
}

// configVariants returns an endpoint config as Bridge reads it; nil, nil
// if the config does not exist. Configs never change, so answers are
// cached.
func (t *Target) configVariants(ctx context.Context, name string) (*configInfo, error) {
	t.mu.Lock()
	ci, ok := t.configs[name]
	t.mu.Unlock()
	if ok {
		return ci, nil
	}
	out, err := t.sm.DescribeEndpointConfig(ctx, &sm.DescribeEndpointConfigInput{EndpointConfigName: aws.String(name)})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe endpoint config %s: %w", name, err)
	}
	ci = &configInfo{}
	total := 0.0
	for _, pv := range out.ProductionVariants {
		total += float64(aws.ToFloat32(pv.InitialVariantWeight))
	}
	for i, pv := range out.ProductionVariants {
		o, ok, err := t.origin(ctx, sgname.KindModel, aws.ToString(pv.ModelName))
		if err != nil {
			return nil, err
		}
		if !ok {
			// An endpoint Bridge adopted (made by the original Bridge)
			// may serve models Bridge did not make: they are no version,
			// and the endpoint is updated to the registry's versions.
			ci.foreign = append(ci.foreign, aws.ToString(pv.ModelName))
			continue
		}
		w := float64(aws.ToFloat32(pv.InitialVariantWeight))
		if total > 0 {
			w /= total
		}
		ci.variants = append(ci.variants, variant{Ref: o.Ref(), Weight: w})
		if i == 0 {
			ci.capacity = Capacity{InstanceType: string(pv.InstanceType), Count: int(aws.ToInt32(pv.InitialInstanceCount))}
		}
	}
	if dc := out.DataCaptureConfig; dc != nil && aws.ToBool(dc.EnableCapture) {
		ci.capture = int(aws.ToInt32(dc.InitialSamplingPercentage))
	}
	sort.Slice(ci.variants, func(i, j int) bool { return ci.variants[i].Ref.Less(ci.variants[j].Ref) })
	t.mu.Lock()
	t.configs[name] = ci
	t.mu.Unlock()
	return ci, nil
}

func originKey(kind, name string) string { return originPrefix + kind + "/" + name + ".json" }

// origin decodes a Bridge name: plain names directly, hashed names from
// their origin record in the bucket. ok is false for names that are not
// Bridge's (or whose record is missing).
func (t *Target) origin(ctx context.Context, kind, name string) (sgname.Origin, bool, error) {
	switch kind {
	case sgname.KindModel:
		if ref, ok := sgname.ParseModel(name); ok {
			return sgname.Origin{Kind: kind, Model: ref.Model, Version: ref.Version}, true, nil
		}
	case sgname.KindEndpoint:
		if key, ok := sgname.ParseEndpoint(name); ok {
			return sgname.Origin{Kind: kind, Model: key.Model, Slot: key.Slot}, true, nil
		}
		if key, ok := caseTwin(name); ok {
			return sgname.Origin{Kind: kind, Model: key.Model, Slot: key.Slot}, true, nil
		}
	}
	if !sgname.Hashed(name) {
		return sgname.Origin{}, false, nil
	}
	t.mu.Lock()
	o, ok := t.origins[kind+"/"+name]
	t.mu.Unlock()
	if ok {
		return o, true, nil
	}
	o, ok, err := t.readOrigin(ctx, kind, name)
	if err != nil || !ok {
		return sgname.Origin{}, false, err
	}
	t.mu.Lock()
	t.origins[kind+"/"+name] = o
	t.mu.Unlock()
	return o, true, nil
}

func (t *Target) readOrigin(ctx context.Context, kind, name string) (sgname.Origin, bool, error) {
	out, err := t.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(originKey(kind, name))})
	if isNotFound(err) {
		return sgname.Origin{}, false, nil
	}
	if err != nil {
		return sgname.Origin{}, false, fmt.Errorf("read name record of %s: %w", name, err)
	}
	defer out.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(out.Body, 64<<10))
	if err != nil {
		return sgname.Origin{}, false, fmt.Errorf("read name record of %s: %w", name, err)
	}
	var o sgname.Origin
	if err := json.Unmarshal(raw, &o); err != nil || o.Kind != kind || originName(o) != name {
		// Only a record that maps back to this very name is trusted.
		return sgname.Origin{}, false, nil
	}
	return o, true, nil
}

func originName(o sgname.Origin) string {
	if o.Kind == sgname.KindModel {
		return sgname.Model(o.Ref())
	}
	return sgname.Endpoint(o.Key())
}

// recordOrigin stores the name record of a resource before it is created:
// for every version (so Observe finds versions whose creation did not
// finish, by listing the records) and for endpoints with hashed names (so
// Observe can decode them). A record for the same name with different
// registry names is a (50-bit hash) collision and an error.
func (t *Target) recordOrigin(ctx context.Context, o sgname.Origin) error {
	name := originName(o)
	if o.Kind == sgname.KindEndpoint && !sgname.Hashed(name) {
		return nil
	}
	t.mu.Lock()
	cached, ok := t.origins[o.Kind+"/"+name]
	t.mu.Unlock()
	if ok && cached == o {
		return nil
	}
	var existing sgname.Origin
	ok = false
	if sgname.Hashed(name) { // plain names cannot collide
		var err error
		if existing, ok, err = t.readOrigin(ctx, o.Kind, name); err != nil {
			return err
		}
	}
	if ok && existing != o {
		return fmt.Errorf("SageMaker name %s of %s %s/%s%s is taken by %s/%s%s: rename one of them in the registry", name, o.Kind, o.Model, o.Slot, versionSuffix(o), existing.Model, existing.Slot, versionSuffix(existing))
	}
	if !ok {
		raw, _ := json.Marshal(o)
		_, err := t.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(t.bucket), Key: aws.String(originKey(o.Kind, name)),
			Body: bytes.NewReader(raw), ContentType: aws.String("application/json")})
		if err != nil {
			return fmt.Errorf("store name record of %s: %w", name, err)
		}
	}
	t.mu.Lock()
	t.origins[o.Kind+"/"+name] = o
	t.mu.Unlock()
	return nil
}

func (t *Target) forgetOrigin(kind, name string) {
	t.mu.Lock()
	delete(t.origins, kind+"/"+name)
	t.mu.Unlock()
}

func versionSuffix(o sgname.Origin) string {
	if o.Version > 0 {
		return fmt.Sprintf("/%d", o.Version)
	}
	return ""
}

// warnOnce logs, once per process and name, a resource with Bridge's
// prefix that Bridge cannot map back (its name record is missing, or it
// was made by someone else). Observe ignores it; destroy deletes it.
func (t *Target) warnOnce(kind, name string) {
	t.mu.Lock()
	seen := t.warned[kind+"/"+name]
	t.warned[kind+"/"+name] = true
	t.mu.Unlock()
	if !seen {
		t.log.Warn("ignoring a resource with Bridge's prefix that Bridge cannot map back to the registry", "kind", kind, "name", name)
	}
}

// endpointStatus maps SageMaker's endpoint status to Bridge's.
func endpointStatus(s smtypes.EndpointStatus) model.Status {
	switch s {
	case smtypes.EndpointStatusInService:
		return model.StatusReady
	case smtypes.EndpointStatusFailed, smtypes.EndpointStatusOutOfService, smtypes.EndpointStatusUpdateRollbackFailed:
		return model.StatusFailed
	}
	// Creating, Updating, SystemUpdating, RollingBack, Deleting: look again later.
	return model.StatusPending
}

// Observe implements target.Target. It calls only list and describe
// actions of the run policy (and s3:GetObject for name records): it never
// changes anything, so `bridge plan` and `bridge status` are safe.
func (t *Target) Observe(ctx context.Context) (model.Actual, error) {
	var act model.Actual
	eps, err := t.listEndpoints(ctx)
	if err != nil {
		return act, err
	}
	// Endpoints are looked at concurrently (a few at a time): a fresh
	// process describes every endpoint and config once.
	type result struct {
		ae  model.ActualEndpoint
		ok  bool
		err error
	}
	results := make([]result, len(eps))
	sem := make(chan struct{}, observeConcurrency)
	var wg sync.WaitGroup
	for i, sum := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			o, ok, err := t.origin(ctx, sgname.KindEndpoint, sum.name)
			if err != nil || !ok {
				if err == nil {
					t.warnOnce("endpoint", sum.name)
				}
				results[i] = result{err: err}
				return
			}
			ae, ok, err := t.observeEndpoint(ctx, o.Key(), sum)
			results[i] = result{ae, ok, err}
		}()
	}
	wg.Wait()
	names := map[model.EndpointKey]string{}
	for i, r := range results {
		if r.err != nil {
			return act, r.err
		}
		if r.ok {
			act.Endpoints = append(act.Endpoints, r.ae)
			names[r.ae.Key] = eps[i].name
		}
	}
	t.adoptAll(names)
	models, err := t.listModels(ctx)
	if err != nil {
		return act, err
	}
	seen := map[model.VersionRef]bool{}
	for _, n := range models {
		o, ok, err := t.origin(ctx, sgname.KindModel, n)
		if err != nil {
			return act, err
		}
		if !ok {
			t.warnOnce("model", n)
			continue
		}
		seen[o.Ref()] = true
		act.Versions = append(act.Versions, model.ActualVersion{Ref: o.Ref(), Status: model.StatusReady})
	}
	// A version with a name record but no model is one whose creation did
	// not finish (its artifact may be uploaded): reported Failed, so it is
	// created again if wanted and deleted if not. Listing the records, not
	// the bucket, keeps this cheap however much data capture holds.
	prefix := originPrefix + sgname.KindModel + "/"
	keys, err := t.listKeys(ctx, prefix)
	if err != nil {
		return act, err
	}
	for _, k := range keys {
		n, ok := strings.CutSuffix(strings.TrimPrefix(k, prefix), ".json")
		if !ok {
			continue
		}
		o, ok, err := t.origin(ctx, sgname.KindModel, n)
		if err != nil {
			return act, err
		}
		if ok && !seen[o.Ref()] {
			seen[o.Ref()] = true
			act.Versions = append(act.Versions, model.ActualVersion{Ref: o.Ref(), Status: model.StatusFailed,
				Message: "creation of SageMaker model " + n + " did not finish"})
		}
	}
	sort.Slice(act.Endpoints, func(i, j int) bool { return act.Endpoints[i].Key.Less(act.Endpoints[j].Key) })
	sort.Slice(act.Versions, func(i, j int) bool { return act.Versions[i].Ref.Less(act.Versions[j].Ref) })
	return act, nil
}

// observeEndpoint reports one endpoint. While it is Creating or Updating
// its versions are those of both the deployed and the pending config, so
// nothing still serving or about to serve is deleted.
func (t *Target) observeEndpoint(ctx context.Context, key model.EndpointKey, sum endpointSummary) (model.ActualEndpoint, bool, error) {
	d, err := t.describe(ctx, sum.name, &sum)
	if err != nil || d == nil {
		return model.ActualEndpoint{}, false, err
	}
	ae := model.ActualEndpoint{Key: key, Status: endpointStatus(d.EndpointStatus), URL: t.URL(key), Message: aws.ToString(d.FailureReason)}
	cur, err := t.configVariants(ctx, aws.ToString(d.EndpointConfigName))
	if err != nil {
		return ae, false, err
	}
	var curVariants []variant
	if cur != nil {
		curVariants = cur.variants
	}
	if cur == nil && ae.Status == model.StatusReady {
		ae.Status, ae.Message = model.StatusFailed, "endpoint config "+aws.ToString(d.EndpointConfigName)+" was deleted"
	}
	have := map[int]bool{}
	for _, v := range curVariants {
		if v.Ref.Model != key.Model {
			continue
		}
		ae.Versions = append(ae.Versions, model.WeightedVersion{Version: v.Ref.Version, Weight: v.Weight})
		have[v.Ref.Version] = true
	}
	if d.PendingDeploymentSummary != nil && d.EndpointStatus != smtypes.EndpointStatusInService {
		pending, err := t.configVariants(ctx, aws.ToString(d.PendingDeploymentSummary.EndpointConfigName))
		if err != nil {
			return ae, false, err
		}
		if pending == nil {
			pending = &configInfo{}
		}
		for _, v := range pending.variants {
			if v.Ref.Model == key.Model && !have[v.Ref.Version] {
				ae.Versions = append(ae.Versions, model.WeightedVersion{Version: v.Ref.Version, Weight: 0})
				have[v.Ref.Version] = true
			}
		}
	}
	sort.Slice(ae.Versions, func(i, j int) bool { return ae.Versions[i].Version < ae.Versions[j].Version })
	if ae.Status == model.StatusReady && cur != nil && len(cur.foreign) > 0 {
		ae.Outdated = true
		ae.Message = fmt.Sprintf("endpoint config %s serves models Bridge did not make (%s); the endpoint is updated to the registry's versions",
			aws.ToString(d.EndpointConfigName), strings.Join(cur.foreign, ", "))
	}
	if ae.Status == model.StatusReady && cur != nil {
		// Instance settings or data capture changed since this config was
		// made: the endpoint is Outdated, and the planner routes it again
		// (to a new config with the settings of now).
		if want, err := t.set.Capacity(key.Slot); err == nil && (want != cur.capacity || t.set.CapturePct != cur.capture) {
			ae.Outdated = true
			if ae.Message == "" {
				ae.Message = fmt.Sprintf("endpoint config %s has %d × %s and data capture %d%%, settings now say %d × %s and %d%%; the endpoint is updated to apply them",
					aws.ToString(d.EndpointConfigName), cur.capacity.Count, cur.capacity.InstanceType, cur.capture, want.Count, want.InstanceType, t.set.CapturePct)
			}
		}
	}
	return ae, true, nil
}
