package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// SageMaker endpoint statuses (DescribeEndpoint's EndpointStatus).
const (
	StatusCreating       = "Creating"
	StatusUpdating       = "Updating"
	StatusSystemUpdating = "SystemUpdating"
	StatusInService      = "InService"
	StatusDeleting       = "Deleting"
	StatusFailed         = "Failed"
)

var smNameRE = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`)
var nameContainsRE = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

type smModel struct {
	name, arn string
	container map[string]any
	image     string
	role      string
	created   time.Time
	seq       int
}

type smVariant struct {
	VariantName          string
	ModelName            string
	InstanceType         string
	InitialInstanceCount int
	InitialVariantWeight *float64
}

type smConfig struct {
	name, arn string
	variants  []smVariant
	rawVars   []map[string]any
	capture   map[string]any
	created   time.Time
	seq       int
}

type smEndpoint struct {
	name, arn         string
	config            string // deployed config
	pending           string // config being deployed
	status            string
	until             time.Time // when the current transition ends
	willFail          string    // failure reason the transition ends with
	failure           string
	created, modified time.Time
	seq               int
}

type sagemakerState struct {
	models    map[string]*smModel // by lower-case name
	configs   map[string]*smConfig
	endpoints map[string]*smEndpoint
	seq       int
	packages  *packageState // model registry (modelpackages.go)
}

func (st *sagemakerState) init() {
	st.models = map[string]*smModel{}
	st.configs = map[string]*smConfig{}
	st.endpoints = map[string]*smEndpoint{}
}

type sagemakerProtocol struct{ s *Server }

func (p sagemakerProtocol) arn(rc *reqCtx, kind, name string) string {
	return fmt.Sprintf("arn:aws:sagemaker:%s:%s:%s/%s", rc.region, p.s.opts.Account, kind, strings.ToLower(name))
}

func (p sagemakerProtocol) operation(rc *reqCtx) (string, *apiError) {
	target := rc.r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "SageMaker.")
	if !ok || rc.r.Method != http.MethodPost {
		return target, errorf(400, "UnknownOperationException", "Unknown operation %s", target)
	}
	var req map[string]any
	if err := json.Unmarshal(rc.body, &req); err != nil {
		return op, errorf(400, "SerializationException", "Start of structure or map found where not expected.")
	}
	name := func(k string) string { s, _ := req[k].(string); return s }
	action := "sagemaker:" + op
	if pipelineOps[op] {
		p.pipelineAuthz(rc, op, req)
		return op, nil
	}
	switch op {
	case "CreateModel", "DescribeModel", "DeleteModel":
		rc.authz(action, p.arn(rc, "model", name("ModelName")))
		if op == "CreateModel" {
			if role := name("ExecutionRoleArn"); role != "" {
				rc.authz("iam:PassRole", role)
			}
		}
	case "CreateEndpointConfig", "DescribeEndpointConfig", "DeleteEndpointConfig":
		rc.authz(action, p.arn(rc, "endpoint-config", name("EndpointConfigName")))
	case "CreateEndpoint", "UpdateEndpoint":
		rc.authz(action, p.arn(rc, "endpoint", name("EndpointName")))
		rc.authz(action, p.arn(rc, "endpoint-config", name("EndpointConfigName")))
	case "DescribeEndpoint", "DeleteEndpoint":
		rc.authz(action, p.arn(rc, "endpoint", name("EndpointName")))
	case "ListModels", "ListEndpoints", "ListEndpointConfigs":
		rc.authz(action, "*")
	case "AddTags", "ListTags", "DeleteTags":
		rc.authz(action, name("ResourceArn"))
		return op, errorf(400, "ValidationException", "awsfake: %s is not emulated", op)
	default:
		if packageOps[op] {
			p.packageAuthz(rc, op, req)
			return op, nil
		}
		rc.authz(action, "*")
		return op, errorf(400, "UnknownOperationException", "awsfake: operation %s is not emulated", op)
	}
	return op, nil
}

func (p sagemakerProtocol) throttle() *apiError {
	return errorf(400, "ThrottlingException", "Rate exceeded")
}

func (p sagemakerProtocol) unknownKey(key string) *apiError {
	if key == "" {
		return errorf(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	return errorf(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
}

func (p sagemakerProtocol) serverError() *apiError {
	return errorf(500, "InternalFailure", "An internal error occurred. Try again.")
}

func (p sagemakerProtocol) errorResponse(rc *reqCtx, e *apiError) response {
	b, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.message})
	return response{status: e.status, code: e.code, contentType: "application/x-amz-json-1.1",
		header: map[string]string{"x-amzn-RequestId": requestID()}, body: b}
}

func (p sagemakerProtocol) ok(v any) response {
	if v == nil {
		v = map[string]any{}
	}
	b, _ := json.Marshal(v)
	return response{status: 200, contentType: "application/x-amz-json-1.1",
		header: map[string]string{"x-amzn-RequestId": requestID()}, body: b}
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func validationf(format string, args ...any) *apiError {
	return errorf(400, "ValidationException", format, args...)
}

func (p sagemakerProtocol) handle(rc *reqCtx) response {
	st := &p.s.sm
	now := p.s.opts.Clock()
	st.advance(now)
	var req map[string]any
	json.Unmarshal(rc.body, &req)
	str := func(k string) string { s, _ := req[k].(string); return s }
	var (
		out any
		err *apiError
	)
	switch rc.call.Operation {
	case "CreateModel":
		out, err = p.createModel(rc, req, now)
	case "DescribeModel":
		m := st.models[strings.ToLower(str("ModelName"))]
		if m == nil {
			err = validationf("Could not find model %q.", p.arn(rc, "model", str("ModelName")))
			break
		}
		out = map[string]any{"ModelName": m.name, "ModelArn": m.arn, "PrimaryContainer": m.container,
			"ExecutionRoleArn": m.role, "CreationTime": epoch(m.created)}
	case "DeleteModel":
		k := strings.ToLower(str("ModelName"))
		if st.models[k] == nil {
			err = validationf("Could not find model %q.", p.arn(rc, "model", str("ModelName")))
			break
		}
		delete(st.models, k)
	case "CreateEndpointConfig":
		out, err = p.createConfig(rc, req, now)
	case "DescribeEndpointConfig":
		c := st.configs[strings.ToLower(str("EndpointConfigName"))]
		if c == nil {
			err = validationf("Could not find endpoint configuration %q.", p.arn(rc, "endpoint-config", str("EndpointConfigName")))
			break
		}
		m := map[string]any{"EndpointConfigName": c.name, "EndpointConfigArn": c.arn,
			"ProductionVariants": c.rawVars, "CreationTime": epoch(c.created)}
		if c.capture != nil {
			m["DataCaptureConfig"] = c.capture
		}
		out = m
	case "DeleteEndpointConfig":
		// AWS allows deleting a config an endpoint uses (the guide only
		// warns against it), so the fake does too.
		k := strings.ToLower(str("EndpointConfigName"))
		if st.configs[k] == nil {
			err = validationf("Could not find endpoint configuration %q.", p.arn(rc, "endpoint-config", str("EndpointConfigName")))
			break
		}
		delete(st.configs, k)
	case "CreateEndpoint":
		out, err = p.createEndpoint(rc, req, now)
	case "UpdateEndpoint":
		out, err = p.updateEndpoint(rc, req, now)
	case "DescribeEndpoint":
		e := st.endpoints[strings.ToLower(str("EndpointName"))]
		if e == nil {
			err = validationf("Could not find endpoint %q.", p.arn(rc, "endpoint", str("EndpointName")))
			break
		}
		out = p.describeEndpoint(e)
	case "DeleteEndpoint":
		e := st.endpoints[strings.ToLower(str("EndpointName"))]
		switch {
		case e == nil:
			err = validationf("Could not find endpoint %q.", p.arn(rc, "endpoint", str("EndpointName")))
		case e.status != StatusInService && e.status != StatusFailed:
			err = validationf("Cannot delete in-progress endpoint %q.", e.arn)
		default:
			e.status, e.until, e.willFail, e.modified = StatusDeleting, now.Add(p.s.opts.DeleteDelay), "", now
		}
	case "ListModels", "ListEndpointConfigs", "ListEndpoints":
		out, err = p.list(rc, req)
	default:
		switch {
		case pipelineOps[rc.call.Operation]:
			out, err = p.handlePipeline(rc, req, now)
		case packageOps[rc.call.Operation]:
			out, err = p.handlePackage(rc, req, now)
		}
	}
	if err != nil {
		return p.errorResponse(rc, err)
	}
	return p.ok(out)
}

func (p sagemakerProtocol) createModel(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.sm
	name, _ := req["ModelName"].(string)
	if !smNameRE.MatchString(name) {
		return nil, validationf("1 validation error detected: Value '%s' at 'modelName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
	}
	if st.models[strings.ToLower(name)] != nil {
		return nil, validationf("Cannot create already existing model %q.", p.arn(rc, "model", name))
	}
	role, _ := req["ExecutionRoleArn"].(string)
	if !p.s.iam.canSageMakerAssume(role) {
		return nil, validationf("Could not assume role %s. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.", role)
	}
	container, _ := req["PrimaryContainer"].(map[string]any)
	if cs, _ := req["Containers"].([]any); container == nil && len(cs) == 1 {
		container, _ = cs[0].(map[string]any)
	}
	if container == nil {
		return nil, validationf("Either PrimaryContainer or Containers must be specified.")
	}
	image, _ := container["Image"].(string)
	if pkgName, _ := container["ModelPackageName"].(string); pkgName != "" {
		var aerr *apiError
		if container, image, aerr = p.modelFromPackage(rc, pkgName); aerr != nil {
			return nil, aerr
		}
	}
	if image == "" {
		return nil, validationf("PrimaryContainer.Image must be specified.")
	}
	if url, _ := container["ModelDataUrl"].(string); url != "" {
		if !p.s.s3.exists(url) {
			return nil, validationf("Could not find model data at %s.", url)
		}
	}
	st.seq++
	m := &smModel{name: name, arn: p.arn(rc, "model", name), container: container, image: image, role: role, created: now, seq: st.seq}
	st.models[strings.ToLower(name)] = m
	return map[string]any{"ModelArn": m.arn}, nil
}

func (p sagemakerProtocol) createConfig(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.sm
	name, _ := req["EndpointConfigName"].(string)
	if !smNameRE.MatchString(name) {
		return nil, validationf("1 validation error detected: Value '%s' at 'endpointConfigName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
	}
	if st.configs[strings.ToLower(name)] != nil {
		return nil, validationf("Cannot create already existing endpoint configuration %q.", p.arn(rc, "endpoint-config", name))
	}
	raw, _ := json.Marshal(req["ProductionVariants"])
	var vars []smVariant
	var rawVars []map[string]any
	json.Unmarshal(raw, &vars)
	json.Unmarshal(raw, &rawVars)
	if len(vars) < 1 || len(vars) > 10 {
		return nil, validationf("1 validation error detected: Value at 'productionVariants' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1")
	}
	seen := map[string]bool{}
	for _, v := range vars {
		if !smNameRE.MatchString(v.VariantName) || seen[strings.ToLower(v.VariantName)] {
			return nil, validationf("Invalid or duplicate variant name %q.", v.VariantName)
		}
		seen[strings.ToLower(v.VariantName)] = true
		if st.models[strings.ToLower(v.ModelName)] == nil {
			return nil, validationf("Could not find model %q.", p.arn(rc, "model", v.ModelName))
		}
		if v.InstanceType == "" || v.InitialInstanceCount < 1 {
			return nil, validationf("Production variant %s needs InstanceType and InitialInstanceCount of at least 1.", v.VariantName)
		}
		if v.InitialVariantWeight != nil && *v.InitialVariantWeight < 0 {
			return nil, validationf("Variant weight of %s must be non-negative.", v.VariantName)
		}
	}
	var capture map[string]any
	if dc, ok := req["DataCaptureConfig"].(map[string]any); ok {
		dest, _ := dc["DestinationS3Uri"].(string)
		pct, _ := dc["InitialSamplingPercentage"].(float64)
		if !strings.HasPrefix(dest, "s3://") || pct < 0 || pct > 100 {
			return nil, validationf("DataCaptureConfig needs an s3:// DestinationS3Uri and an InitialSamplingPercentage from 0 to 100.")
		}
		capture = dc
	}
	st.seq++
	c := &smConfig{name: name, arn: p.arn(rc, "endpoint-config", name), variants: vars, rawVars: rawVars, capture: capture, created: now, seq: st.seq}
	st.configs[strings.ToLower(name)] = c
	return map[string]any{"EndpointConfigArn": c.arn}, nil
}

// failure returns why deploying a config fails, or "".
func (p sagemakerProtocol) failure(endpoint string, c *smConfig) string {
	st := &p.s.sm
	var images []string
	for _, v := range c.variants {
		m := st.models[strings.ToLower(v.ModelName)]
		if m == nil {
			return fmt.Sprintf("Could not find model %q for production variant %s.", v.ModelName, v.VariantName)
		}
		images = append(images, m.image)
		if url, _ := m.container["ModelDataUrl"].(string); url != "" && !p.s.s3.sageMakerCanRead(url) {
			return fmt.Sprintf("Failed to download model data for container \"container_1\" from URL: \"%s\". Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the object.", url)
		}
		if p.s.opts.FailImage != "-" && strings.Contains(m.image, p.s.opts.FailImage) {
			return fmt.Sprintf("The primary container for production variant %s did not pass the ping health check. Please check CloudWatch logs for this endpoint.", v.VariantName)
		}
	}
	if p.s.opts.FailEndpoint != nil {
		return p.s.opts.FailEndpoint(endpoint, images)
	}
	return ""
}

// instances counts the instances per type a config asks for.
func (c *smConfig) instances() map[string]int {
	out := map[string]int{}
	for _, v := range c.variants {
		out[v.InstanceType] += v.InitialInstanceCount
	}
	return out
}

// checkQuota answers ResourceLimitExceeded when deploying c (on top of what
// every endpoint uses now, except the config `replacing` of the endpoint
// being updated, which keeps running until the update ends) exceeds the
// instance quota.
func (p sagemakerProtocol) checkQuota(c *smConfig) *apiError {
	if len(p.s.opts.InstanceQuota) == 0 {
		return nil
	}
	st := &p.s.sm
	used := map[string]int{}
	for _, e := range st.endpoints {
		if e.status == StatusFailed {
			continue
		}
		names := []string{e.config}
		if e.pending != "" && e.pending != e.config {
			names = append(names, e.pending) // both fleets run during an update
		}
		for _, name := range names {
			if cfg := st.configs[strings.ToLower(name)]; cfg != nil {
				for t, n := range cfg.instances() {
					used[t] += n
				}
			}
		}
	}
	for t, n := range c.instances() {
		quota, ok := p.s.opts.InstanceQuota[t]
		if ok && used[t]+n > quota {
			return errorf(400, "ResourceLimitExceeded", "The account-level service limit '%s for endpoint usage' is %d Instances, with current utilization of %d Instances and a request delta of %d Instances. Please use AWS Service Quotas to request an increase to this quota.", t, quota, used[t], n)
		}
	}
	return nil
}

func (p sagemakerProtocol) createEndpoint(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.sm
	name, _ := req["EndpointName"].(string)
	cfgName, _ := req["EndpointConfigName"].(string)
	if !smNameRE.MatchString(name) {
		return nil, validationf("1 validation error detected: Value '%s' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
	}
	if st.endpoints[strings.ToLower(name)] != nil {
		return nil, validationf("Cannot create already existing endpoint %q.", p.arn(rc, "endpoint", name))
	}
	c := st.configs[strings.ToLower(cfgName)]
	if c == nil {
		return nil, validationf("Could not find endpoint configuration %q.", p.arn(rc, "endpoint-config", cfgName))
	}
	if err := p.checkQuota(c); err != nil {
		return nil, err
	}
	st.seq++
	e := &smEndpoint{name: name, arn: p.arn(rc, "endpoint", name), config: c.name, pending: c.name,
		status: StatusCreating, until: now.Add(p.s.opts.CreateDelay), willFail: p.failure(name, c),
		created: now, modified: now, seq: st.seq}
	st.endpoints[strings.ToLower(name)] = e
	return map[string]any{"EndpointArn": e.arn}, nil
}

func (p sagemakerProtocol) updateEndpoint(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	st := &p.s.sm
	name, _ := req["EndpointName"].(string)
	cfgName, _ := req["EndpointConfigName"].(string)
	e := st.endpoints[strings.ToLower(name)]
	if e == nil {
		return nil, validationf("Could not find endpoint %q.", p.arn(rc, "endpoint", name))
	}
	if e.status == StatusFailed {
		return nil, validationf("Cannot update failed endpoint %q. Delete it and create it again.", e.arn)
	}
	if e.status != StatusInService {
		return nil, validationf("Cannot update in-progress endpoint %q.", e.arn)
	}
	c := st.configs[strings.ToLower(cfgName)]
	if c == nil {
		return nil, validationf("Could not find endpoint configuration %q.", p.arn(rc, "endpoint-config", cfgName))
	}
	if err := p.checkQuota(c); err != nil {
		return nil, err
	}
	e.status, e.pending, e.until, e.willFail, e.modified = StatusUpdating, c.name, now.Add(p.s.opts.UpdateDelay), p.failure(name, c), now
	return map[string]any{"EndpointArn": e.arn}, nil
}

// advance completes every transition whose time has come.
func (st *sagemakerState) advance(now time.Time) {
	for k, e := range st.endpoints {
		if e.until.IsZero() || now.Before(e.until) {
			continue
		}
		at := e.until
		e.until = time.Time{}
		switch e.status {
		case StatusCreating:
			if e.willFail != "" {
				e.status, e.failure = StatusFailed, e.willFail
			} else {
				e.status, e.failure = StatusInService, ""
			}
			e.pending = ""
		case StatusUpdating:
			if e.willFail != "" {
				// Blue/green: the update rolls back; the old config serves on.
				e.status, e.failure = StatusInService, e.willFail
			} else {
				e.status, e.failure, e.config = StatusInService, "", e.pending
			}
			e.pending = ""
		case StatusSystemUpdating:
			e.status = StatusInService
		case StatusDeleting:
			delete(st.endpoints, k)
			continue
		}
		e.willFail, e.modified = "", at
	}
}

func (p sagemakerProtocol) describeEndpoint(e *smEndpoint) map[string]any {
	out := map[string]any{"EndpointName": e.name, "EndpointArn": e.arn, "EndpointConfigName": e.config,
		"EndpointStatus": e.status, "CreationTime": epoch(e.created), "LastModifiedTime": epoch(e.modified)}
	if e.failure != "" {
		out["FailureReason"] = e.failure
	}
	variants := func(cfg string) []map[string]any {
		c := p.s.sm.configs[strings.ToLower(cfg)]
		if c == nil {
			return nil
		}
		var vs []map[string]any
		for _, v := range c.variants {
			w := 1.0
			if v.InitialVariantWeight != nil {
				w = *v.InitialVariantWeight
			}
			vs = append(vs, map[string]any{"VariantName": v.VariantName, "CurrentWeight": w, "DesiredWeight": w,
				"CurrentInstanceCount": v.InitialInstanceCount, "DesiredInstanceCount": v.InitialInstanceCount})
		}
		return vs
	}
	if e.status != StatusCreating && e.status != StatusFailed {
		if vs := variants(e.config); vs != nil {
			out["ProductionVariants"] = vs
		}
	}
	if e.pending != "" {
		pd := map[string]any{"EndpointConfigName": e.pending, "StartTime": epoch(e.modified)}
		if vs := variants(e.pending); vs != nil {
			pd["ProductionVariants"] = vs
		}
		out["PendingDeploymentSummary"] = pd
	}
	if c := p.s.sm.configs[strings.ToLower(e.config)]; c != nil && c.capture != nil {
		pct, _ := c.capture["InitialSamplingPercentage"].(float64)
		dest, _ := c.capture["DestinationS3Uri"].(string)
		out["DataCaptureConfig"] = map[string]any{"EnableCapture": true, "CaptureStatus": "Started",
			"CurrentSamplingPercentage": pct, "DestinationS3Uri": dest}
	}
	return out
}

// listItem is one row of a List* answer.
type listItem struct {
	name    string
	created time.Time
	seq     int
	status  string
	row     map[string]any
}

type pageToken struct {
	Seq    int    `json:"s"`
	Name   string `json:"n"`
	Status string `json:"t,omitempty"`
	Sig    string `json:"q"`
}

func (p sagemakerProtocol) list(rc *reqCtx, req map[string]any) (any, *apiError) {
	st := &p.s.sm
	contains, _ := req["NameContains"].(string)
	if _, set := req["NameContains"]; set && !nameContainsRE.MatchString(contains) {
		return nil, validationf("1 validation error detected: Value '%s' at 'nameContains' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-]+", contains)
	}
	max := 10
	if v, ok := req["MaxResults"].(float64); ok {
		max = int(v)
		if max < 1 || max > 100 {
			return nil, validationf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100 and greater than or equal to 1", max)
		}
	}
	sortBy, _ := req["SortBy"].(string)
	if sortBy == "" {
		sortBy = "CreationTime"
	}
	order, _ := req["SortOrder"].(string)
	if order == "" {
		order = "Descending"
	}
	statusEq, _ := req["StatusEquals"].(string)
	var items []listItem
	key := ""
	switch rc.call.Operation {
	case "ListModels":
		key = "Models"
		for _, m := range st.models {
			items = append(items, listItem{m.name, m.created, m.seq, "", map[string]any{"ModelName": m.name, "ModelArn": m.arn, "CreationTime": epoch(m.created)}})
		}
	case "ListEndpointConfigs":
		key = "EndpointConfigs"
		for _, c := range st.configs {
			items = append(items, listItem{c.name, c.created, c.seq, "", map[string]any{"EndpointConfigName": c.name, "EndpointConfigArn": c.arn, "CreationTime": epoch(c.created)}})
		}
	case "ListEndpoints":
		key = "Endpoints"
		for _, e := range st.endpoints {
			items = append(items, listItem{e.name, e.created, e.seq, e.status, map[string]any{"EndpointName": e.name, "EndpointArn": e.arn,
				"CreationTime": epoch(e.created), "LastModifiedTime": epoch(e.modified), "EndpointStatus": e.status}})
		}
	}
	// NameContains is a substring match, like AWS (not a prefix match).
	filtered := items[:0]
	for _, it := range items {
		if contains != "" && !strings.Contains(strings.ToLower(it.name), strings.ToLower(contains)) {
			continue
		}
		if statusEq != "" && it.status != statusEq {
			continue
		}
		filtered = append(filtered, it)
	}
	items = filtered
	less := func(a, b listItem) bool {
		if sortBy == "Name" {
			return strings.ToLower(a.name) < strings.ToLower(b.name)
		}
		if sortBy == "Status" && a.status != b.status {
			return a.status < b.status
		}
		return a.seq < b.seq // creation order
	}
	sort.Slice(items, func(i, j int) bool {
		if order == "Descending" {
			return less(items[j], items[i])
		}
		return less(items[i], items[j])
	})
	sig := fmt.Sprintf("%s|%s|%s|%s|%s", rc.call.Operation, contains, sortBy, order, statusEq)
	start := 0
	if tok, _ := req["NextToken"].(string); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		var pt pageToken
		if err != nil || json.Unmarshal(raw, &pt) != nil || pt.Sig != sig {
			return nil, validationf("Invalid pagination token.")
		}
		// Resume after the last item returned, so deletions between pages
		// neither skip nor repeat items.
		start = len(items)
		for i, it := range items {
			last := listItem{name: pt.Name, seq: pt.Seq, status: pt.Status}
			if order == "Descending" && less(it, last) || order != "Descending" && less(last, it) {
				start = i
				break
			}
		}
	}
	end := start + max
	out := map[string]any{}
	rows := []map[string]any{}
	if end < len(items) {
		last := items[end-1]
		b, _ := json.Marshal(pageToken{Seq: last.seq, Name: last.name, Status: last.status, Sig: sig})
		out["NextToken"] = base64.RawURLEncoding.EncodeToString(b)
	} else {
		end = len(items)
	}
	for _, it := range items[start:end] {
		rows = append(rows, it.row)
	}
	out[key] = rows
	return out, nil
}

// SageMaker inspection and control for tests.

// EndpointInfo is a snapshot of one fake endpoint.
type EndpointInfo struct {
	Name, Status, Config, Pending, FailureReason string
}

// Endpoints returns every endpoint, sorted by name, after applying due
// transitions.
func (s *Server) Endpoints() []EndpointInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sm.advance(s.opts.Clock())
	var out []EndpointInfo
	for _, e := range s.sm.endpoints {
		out = append(out, EndpointInfo{e.name, e.status, e.config, e.pending, e.failure})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Models returns the names of every model, sorted.
func (s *Server) Models() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, m := range s.sm.models {
		out = append(out, m.name)
	}
	sort.Strings(out)
	return out
}

// ModelContainer returns the PrimaryContainer a model was created with.
func (s *Server) ModelContainer(name string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.sm.models[strings.ToLower(name)]
	if m == nil {
		return nil, false
	}
	return m.container, true
}

// EndpointConfigs returns the names of every endpoint config, sorted.
func (s *Server) EndpointConfigs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.sm.configs {
		out = append(out, c.name)
	}
	sort.Strings(out)
	return out
}

// ConfigVariants returns the production variants of an endpoint config as
// created (VariantName, ModelName, InstanceType, InitialInstanceCount,
// InitialVariantWeight) and its DataCaptureConfig (nil when absent).
func (s *Server) ConfigVariants(name string) (variants []map[string]any, capture map[string]any, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.sm.configs[strings.ToLower(name)]
	if c == nil {
		return nil, nil, false
	}
	return c.rawVars, c.capture, true
}

// SystemUpdate puts an InService endpoint into SystemUpdating for d, as AWS
// maintenance does.
func (s *Server) SystemUpdate(name string, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Clock()
	s.sm.advance(now)
	e := s.sm.endpoints[strings.ToLower(name)]
	if e == nil || e.status != StatusInService {
		return fmt.Errorf("endpoint %s is not InService", name)
	}
	e.status, e.until, e.modified = StatusSystemUpdating, now.Add(d), now
	return nil
}

// Plant creates resources directly, without calls being recorded: models
// (with the given image, no artifact), and for each endpoint name an
// InService endpoint with a one-variant config on the first model. Tests use
// it to plant resources Bridge did not create.
func (s *Server) Plant(region string, models []string, endpoints []string, image string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Clock()
	st := &s.sm
	arn := func(kind, name string) string {
		return fmt.Sprintf("arn:aws:sagemaker:%s:%s:%s/%s", region, s.opts.Account, kind, strings.ToLower(name))
	}
	for _, m := range models {
		st.seq++
		st.models[strings.ToLower(m)] = &smModel{name: m, arn: arn("model", m), image: image,
			container: map[string]any{"Image": image}, created: now, seq: st.seq}
	}
	for _, e := range endpoints {
		cfg := e + "-cfg"
		st.seq++
		one := 1.0
		v := smVariant{VariantName: "main", ModelName: models[0], InstanceType: "ml.t2.medium", InitialInstanceCount: 1, InitialVariantWeight: &one}
		raw := map[string]any{"VariantName": "main", "ModelName": models[0], "InstanceType": "ml.t2.medium", "InitialInstanceCount": 1, "InitialVariantWeight": 1.0}
		st.configs[strings.ToLower(cfg)] = &smConfig{name: cfg, arn: arn("endpoint-config", cfg), variants: []smVariant{v}, rawVars: []map[string]any{raw}, created: now, seq: st.seq}
		st.seq++
		st.endpoints[strings.ToLower(e)] = &smEndpoint{name: e, arn: arn("endpoint", e), config: cfg, status: StatusInService, created: now, modified: now, seq: st.seq}
	}
}
