package awsfake

// SageMaker model registry: model package groups and versioned model
// packages, as the SageMaker API reference describes CreateModelPackageGroup,
// DescribeModelPackageGroup, ListModelPackageGroups, DeleteModelPackageGroup,
// CreateModelPackage, DescribeModelPackage, ListModelPackages and
// UpdateModelPackage:
//
//   - a group's packages get versions 1, 2, 3 ... in creation order and the
//     ARN arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION (the
//     group part lower-cased, like every SageMaker ARN);
//   - ModelApprovalStatus of a versioned package defaults to
//     PendingManualApproval; only Approved packages can back a model
//     (CreateModel with ModelPackageName);
//   - List* sort by CreationTime (default) or Name, Ascending by default,
//     MaxResults 1..100 (default 10), NextToken, and filter by NameContains,
//     CreationTimeAfter and CreationTimeBefore;
//   - DescribeModelPackage and CreateModel's ModelPackageName take a
//     package's ARN or GROUP/VERSION (VersionedArnOrName), in any case;
//   - a package created with ModelPackageName instead of a group is
//     unversioned (ARN model-package/NAME, no version, no approval status:
//     CreateModel takes it as it is); ListModelPackages without
//     ModelPackageGroupName and without ModelPackageType lists unversioned
//     packages only, with a group only that group's versioned packages;
//   - CustomerMetadataProperties hold at most 50 entries, keys 1..128 and
//     values 1..256 characters of letters, separators, numbers and
//     _.:/=+-@; UpdateModelPackage merges them and removes
//     CustomerMetadataPropertiesToRemove;
//   - DeleteModelPackage removes a package (its version number is not
//     reused); a group with packages cannot be deleted.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Model approval statuses.
const (
	ApprovalApproved = "Approved"
	ApprovalRejected = "Rejected"
	ApprovalPending  = "PendingManualApproval"
)

type mpGroup struct {
	name, arn, desc string
	created         time.Time
	seq             int
	lastVersion     int
}

type mpPackage struct {
	name         string // package name: the group's for a versioned package
	group        string // group name as created; "" for an unversioned package
	version      int
	arn          string
	desc         string
	approval     string
	approvalDesc string
	created      time.Time
	modified     time.Time
	seq          int
	inference    map[string]any
	metadata     map[string]string
	extra        map[string]any // ModelMetrics, DriftCheckBaselines, Domain, Task, ... as given
}

type packageState struct {
	groups   map[string]*mpGroup   // by lower-case name
	packages map[string]*mpPackage // by ARN
	throttle map[string]int        // operation -> calls still to throttle
}

var packageOps = map[string]bool{
	"CreateModelPackageGroup": true, "DescribeModelPackageGroup": true, "ListModelPackageGroups": true,
	"DeleteModelPackageGroup": true, "CreateModelPackage": true, "DescribeModelPackage": true, "DeleteModelPackage": true,
	"ListModelPackages": true, "UpdateModelPackage": true,
}

var (
	groupArnRE   = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:model-package-group/(.+)$`)
	packageArnRE = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:model-package/([^/]+)/([0-9]+)$`)
	// CustomerMetadataKey and CustomerMetadataValue: 1..128 and 1..256
	// characters of letters, separators, numbers and _.:/=+-@.
	metaKeyRE   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	metaValueRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$`)
	// versionedNameRE is VersionedArnOrName, what DescribeModelPackage and
	// CreateModel's ModelPackageName take: a name, name/version, or an ARN
	// of either (the look-behind (?<!-) of the reference is checked apart).
	versionedNameRE = regexp.MustCompile(`^(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:[a-z\-]*/)?([a-zA-Z0-9][a-zA-Z0-9-]{0,62})(/[0-9]{1,5})?$`)
	// packageArnPatternRE is ModelPackageArn (UpdateModelPackage).
	packageArnPatternRE = regexp.MustCompile(`^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:model-package/.*$`)
)

func (st *sagemakerState) pk() *packageState {
	if st.packages == nil {
		st.packages = &packageState{groups: map[string]*mpGroup{}, packages: map[string]*mpPackage{}, throttle: map[string]int{}}
	}
	return st.packages
}

// groupName returns the group a name-or-ARN parameter names.
func groupName(v string) string {
	if m := groupArnRE.FindStringSubmatch(v); m != nil {
		return m[1]
	}
	return v
}

func (p sagemakerProtocol) groupARN(rc *reqCtx, name string) string {
	return p.arn(rc, "model-package-group", name)
}

func (p sagemakerProtocol) packageARN(rc *reqCtx, group string, version int) string {
	return fmt.Sprintf("%s/%d", p.arn(rc, "model-package", group), version)
}

// packageAuthz records what AWS authorises a model registry call against.
func (p sagemakerProtocol) packageAuthz(rc *reqCtx, op string, req map[string]any) {
	str := func(k string) string { s, _ := req[k].(string); return s }
	action := "sagemaker:" + op
	switch op {
	case "CreateModelPackageGroup", "DescribeModelPackageGroup", "DeleteModelPackageGroup":
		rc.authz(action, p.groupARN(rc, groupName(str("ModelPackageGroupName"))))
	case "CreateModelPackage":
		g := groupName(str("ModelPackageGroupName"))
		if g == "" {
			rc.authz(action, p.arn(rc, "model-package", str("ModelPackageName")))
			return
		}
		next := 1
		if grp := p.s.sm.pk().groups[strings.ToLower(g)]; grp != nil {
			next = grp.lastVersion + 1
		}
		rc.authz(action, p.packageARN(rc, g, next))
	case "DescribeModelPackage", "DeleteModelPackage":
		rc.authz(action, p.packageRef(rc, str("ModelPackageName")))
	case "UpdateModelPackage":
		rc.authz(action, strings.ToLower(str("ModelPackageArn")))
	default: // List*: no resource-level permissions
		rc.authz(action, "*")
	}
}

// handlePackage serves one model registry call.
func (p sagemakerProtocol) handlePackage(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	ps := p.s.sm.pk()
	op := rc.call.Operation
	if ps.throttle[op] > 0 {
		ps.throttle[op]--
		return nil, p.throttle()
	}
	str := func(k string) string { s, _ := req[k].(string); return s }
	switch op {
	case "CreateModelPackageGroup":
		name := str("ModelPackageGroupName")
		if !smNameRE.MatchString(name) {
			return nil, validationf("1 validation error detected: Value '%s' at 'modelPackageGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", name)
		}
		if ps.groups[strings.ToLower(name)] != nil {
			return nil, validationf("Model Package Group already exists: %s", p.groupARN(rc, name))
		}
		p.s.sm.seq++
		g := &mpGroup{name: name, arn: p.groupARN(rc, name), desc: str("ModelPackageGroupDescription"), created: now, seq: p.s.sm.seq}
		ps.groups[strings.ToLower(name)] = g
		return map[string]any{"ModelPackageGroupArn": g.arn}, nil
	case "DescribeModelPackageGroup":
		g, err := p.group(rc, str("ModelPackageGroupName"))
		if err != nil {
			return nil, err
		}
		return map[string]any{"ModelPackageGroupName": g.name, "ModelPackageGroupArn": g.arn,
			"ModelPackageGroupDescription": g.desc, "CreationTime": epoch(g.created),
			"CreatedBy": map[string]any{}, "ModelPackageGroupStatus": "Completed"}, nil
	case "DeleteModelPackageGroup":
		g, err := p.group(rc, str("ModelPackageGroupName"))
		if err != nil {
			return nil, err
		}
		for _, pkg := range ps.packages {
			if strings.EqualFold(pkg.group, g.name) {
				return nil, errorf(400, "ConflictException", "Model Package Group %s cannot be deleted because it contains model packages.", g.arn)
			}
		}
		delete(ps.groups, strings.ToLower(g.name))
		return nil, nil
	case "CreateModelPackage":
		return p.createPackage(rc, req, now)
	case "DescribeModelPackage":
		pkg, err := p.pkg(rc, "modelPackageName", str("ModelPackageName"))
		if err != nil {
			return nil, err
		}
		return p.describePackage(pkg), nil
	case "UpdateModelPackage":
		return p.updatePackage(rc, req, now)
	case "DeleteModelPackage":
		pkg, err := p.pkg(rc, "modelPackageName", str("ModelPackageName"))
		if err != nil {
			return nil, err
		}
		delete(ps.packages, pkg.arn) // its version number is not given again
		return nil, nil
	case "ListModelPackageGroups":
		var items []listItem
		for _, g := range ps.groups {
			items = append(items, listItem{g.name, g.created, g.seq, "", map[string]any{
				"ModelPackageGroupName": g.name, "ModelPackageGroupArn": g.arn, "ModelPackageGroupDescription": g.desc,
				"CreationTime": epoch(g.created), "ModelPackageGroupStatus": "Completed"}})
		}
		return p.listPackages(rc, req, "ModelPackageGroupSummaryList", items)
	case "ListModelPackages":
		group := groupName(str("ModelPackageGroupName"))
		typ := str("ModelPackageType")
		switch typ {
		case "", "Versioned", "Unversioned", "Both":
		default:
			return nil, validationf("1 validation error detected: Value '%s' at 'modelPackageType' failed to satisfy constraint: Member must satisfy enum value set: [Both, Versioned, Unversioned]", typ)
		}
		approval := str("ModelApprovalStatus")
		if approval != "" && approval != ApprovalApproved && approval != ApprovalRejected && approval != ApprovalPending {
			return nil, validationf("1 validation error detected: Value '%s' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]", approval)
		}
		var items []listItem
		for _, pkg := range ps.packages {
			versioned := pkg.group != ""
			switch {
			case group != "": // a group's versioned packages (unless Unversioned)
				if !versioned || typ == "Unversioned" || !strings.EqualFold(pkg.group, group) {
					continue
				}
			case versioned && typ != "Versioned" && typ != "Both", !versioned && typ == "Versioned":
				continue // the default type is Unversioned
			}
			if approval != "" && pkg.approval != approval {
				continue
			}
			row := map[string]any{"ModelPackageName": pkg.name, "ModelPackageArn": pkg.arn, "ModelPackageDescription": pkg.desc,
				"CreationTime": epoch(pkg.created), "ModelPackageStatus": "Completed"}
			if versioned {
				row["ModelPackageGroupName"], row["ModelPackageVersion"], row["ModelApprovalStatus"] = pkg.group, pkg.version, pkg.approval
			}
			items = append(items, listItem{pkg.name + "/" + fmt.Sprintf("%09d", pkg.version), pkg.created, pkg.seq, "", row})
		}
		return p.listPackages(rc, req, "ModelPackageSummaryList", items)
	}
	return nil, errorf(400, "UnknownOperationException", "awsfake: operation %s is not emulated", op)
}

func (p sagemakerProtocol) group(rc *reqCtx, nameOrARN string) (*mpGroup, *apiError) {
	name := groupName(nameOrARN)
	g := p.s.sm.pk().groups[strings.ToLower(name)]
	if g == nil {
		return nil, validationf("ModelPackageGroup %s does not exist.", p.groupARN(rc, name))
	}
	return g, nil
}

// packageRef returns the lower-cased ARN a VersionedArnOrName names:
// an ARN as given, GROUP/VERSION as the package's ARN, a plain name as an
// unversioned package's ARN.
func (p sagemakerProtocol) packageRef(rc *reqCtx, v string) string {
	if strings.HasPrefix(v, "arn:") {
		return strings.ToLower(v)
	}
	if group, version, ok := strings.Cut(v, "/"); ok {
		return strings.ToLower(p.arn(rc, "model-package", group) + "/" + version)
	}
	return strings.ToLower(p.arn(rc, "model-package", v))
}

// pkg finds the package a VersionedArnOrName parameter (field, for the
// error) names: its ARN or GROUP/VERSION, in any case.
func (p sagemakerProtocol) pkg(rc *reqCtx, field, name string) (*mpPackage, *apiError) {
	if !versionedNameRE.MatchString(name) || strings.Contains(name, "-/") || strings.HasSuffix(name, "-") {
		return nil, validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)(\\/[0-9]{1,5})?$", name, field)
	}
	ref := p.packageRef(rc, name)
	pkg := p.s.sm.pk().packages[ref]
	if pkg == nil {
		return nil, validationf("ModelPackage %s does not exist.", ref)
	}
	return pkg, nil
}

func (p sagemakerProtocol) createPackage(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	ps := p.s.sm.pk()
	gname, _ := req["ModelPackageGroupName"].(string)
	if n, _ := req["ModelPackageName"].(string); n != "" && gname != "" {
		return nil, validationf("Both ModelPackageName and ModelPackageGroupName are provided in the input. Cannot determine which one to use.")
	}
	if gname == "" {
		if n, _ := req["ModelPackageName"].(string); n != "" {
			return p.createUnversioned(rc, n, req, now)
		}
		return nil, validationf("Either ModelPackageName or ModelPackageGroupName must be specified.")
	}
	g, err := p.group(rc, gname)
	if err != nil {
		return nil, err
	}
	approval, _ := req["ModelApprovalStatus"].(string)
	switch approval {
	case "":
		approval = ApprovalPending
	case ApprovalApproved, ApprovalRejected, ApprovalPending:
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]", approval)
	}
	inf, _ := req["InferenceSpecification"].(map[string]any)
	if inf != nil {
		if aerr := checkInference(inf); aerr != nil {
			return nil, aerr
		}
	}
	meta, aerr := metadata(req["CustomerMetadataProperties"], nil)
	if aerr != nil {
		return nil, aerr
	}
	extra := map[string]any{}
	for _, k := range []string{"ModelMetrics", "DriftCheckBaselines", "Domain", "Task", "SamplePayloadUrl", "MetadataProperties", "ModelPackageDescription"} {
		if v, ok := req[k]; ok {
			extra[k] = v
		}
	}
	g.lastVersion++
	p.s.sm.seq++
	pkg := &mpPackage{name: g.name, group: g.name, version: g.lastVersion, arn: p.packageARN(rc, g.name, g.lastVersion),
		approval: approval, created: now, modified: now, seq: p.s.sm.seq, inference: inf, metadata: meta, extra: extra}
	pkg.desc, _ = req["ModelPackageDescription"].(string)
	ps.packages[pkg.arn] = pkg
	return map[string]any{"ModelPackageArn": pkg.arn}, nil
}

// checkInference validates an InferenceSpecification: 1..15 containers,
// each with an Image.
func checkInference(inf map[string]any) *apiError {
	cs, _ := inf["Containers"].([]any)
	if len(cs) < 1 || len(cs) > 15 {
		return validationf("1 validation error detected: Value at 'inferenceSpecification.containers' failed to satisfy constraint: Member must have length less than or equal to 15 and greater than or equal to 1")
	}
	for i, c := range cs {
		m, _ := c.(map[string]any)
		if img, _ := m["Image"].(string); img == "" {
			return validationf("1 validation error detected: Value null at 'inferenceSpecification.containers.%d.member.image' failed to satisfy constraint: Member must not be null", i+1)
		}
	}
	return nil
}

// metadata merges CustomerMetadataProperties into old (a copy). The map
// given holds 1..50 entries; keys are 1..128 and values 1..256 characters
// of letters, separators, numbers and _.:/=+-@ (CustomerMetadataKey,
// CustomerMetadataValue): a comma, a quote or a parenthesis is refused.
func metadata(v any, old map[string]string) (map[string]string, *apiError) {
	out := map[string]string{}
	for k, val := range old {
		out[k] = val
	}
	m, given := v.(map[string]any)
	if given && len(m) == 0 {
		return nil, validationf("1 validation error detected: Value '{}' at 'customerMetadataProperties' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	for k, raw := range m {
		s, _ := raw.(string)
		if !metaKeyRE.MatchString(k) {
			return nil, validationf("1 validation error detected: Value at 'customerMetadataProperties' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,128}]")
		}
		if !metaValueRE.MatchString(s) {
			return nil, validationf("1 validation error detected: Value at 'customerMetadataProperties' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,256}]")
		}
		out[k] = s
	}
	if len(out) > 50 {
		return nil, validationf("1 validation error detected: Value at 'customerMetadataProperties' failed to satisfy constraint: Member must have length less than or equal to 50")
	}
	return out, nil
}

func (p sagemakerProtocol) updatePackage(rc *reqCtx, req map[string]any, now time.Time) (any, *apiError) {
	arn, _ := req["ModelPackageArn"].(string)
	if !packageArnPatternRE.MatchString(arn) {
		return nil, validationf("1 validation error detected: Value '%s' at 'modelPackageArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:model-package/.*", arn)
	}
	pkg, err := p.pkg(rc, "modelPackageArn", arn)
	if err != nil {
		return nil, err
	}
	approval, _ := req["ModelApprovalStatus"].(string)
	switch approval {
	case "", ApprovalApproved, ApprovalRejected, ApprovalPending:
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'modelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]", approval)
	}
	meta, err := metadata(req["CustomerMetadataProperties"], pkg.metadata)
	if err != nil {
		return nil, err
	}
	remove, _ := req["CustomerMetadataPropertiesToRemove"].([]any)
	added, _ := req["CustomerMetadataProperties"].(map[string]any)
	for _, k := range remove {
		s, _ := k.(string)
		if !metaKeyRE.MatchString(s) {
			return nil, validationf("1 validation error detected: Value '%s' at 'customerMetadataPropertiesToRemove' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:\\/=+\\-@]*)${1,128}]", s)
		}
		if _, set := added[s]; set {
			return nil, validationf("The same key %s cannot be both added and removed.", s)
		}
		delete(meta, s)
	}
	if approval != "" {
		pkg.approval = approval
	}
	if d, ok := req["ApprovalDescription"].(string); ok {
		pkg.approvalDesc = d
	}
	pkg.metadata, pkg.modified = meta, now
	return map[string]any{"ModelPackageArn": pkg.arn}, nil
}

func (p sagemakerProtocol) describePackage(pkg *mpPackage) map[string]any {
	out := map[string]any{}
	for k, v := range pkg.extra {
		out[k] = v
	}
	out["ModelPackageName"] = pkg.name
	if pkg.group != "" {
		out["ModelPackageGroupName"] = pkg.group
		out["ModelPackageVersion"] = pkg.version
		out["ModelApprovalStatus"] = pkg.approval
	}
	out["ModelPackageArn"] = pkg.arn
	out["CreationTime"] = epoch(pkg.created)
	out["LastModifiedTime"] = epoch(pkg.modified)
	out["ModelPackageStatus"] = "Completed"
	out["ModelPackageStatusDetails"] = map[string]any{"ValidationStatuses": []any{}, "ImageScanStatuses": []any{}}
	out["CertifyForMarketplace"] = false
	if pkg.desc != "" {
		out["ModelPackageDescription"] = pkg.desc
	}
	if pkg.approvalDesc != "" {
		out["ApprovalDescription"] = pkg.approvalDesc
	}
	if pkg.inference != nil {
		out["InferenceSpecification"] = pkg.inference
	}
	if len(pkg.metadata) > 0 {
		out["CustomerMetadataProperties"] = pkg.metadata
	}
	return out
}

// listPackages sorts and pages a model registry listing: SortBy
// CreationTime (default) or Name, SortOrder Ascending (default) or
// Descending.
func (p sagemakerProtocol) listPackages(rc *reqCtx, req map[string]any, key string, items []listItem) (any, *apiError) {
	max := 10
	if v, ok := req["MaxResults"].(float64); ok {
		max = int(v)
		if max < 1 || max > 100 {
			return nil, validationf("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100 and greater than or equal to 1", max)
		}
	}
	sortBy, _ := req["SortBy"].(string)
	switch sortBy {
	case "":
		sortBy = "CreationTime"
	case "CreationTime", "Name":
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime]", sortBy)
	}
	order, _ := req["SortOrder"].(string)
	switch order {
	case "":
		order = "Ascending"
	case "Ascending", "Descending":
	default:
		return nil, validationf("1 validation error detected: Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]", order)
	}
	contains, hasContains := req["NameContains"].(string)
	if hasContains && !nameContainsRE.MatchString(contains) {
		return nil, validationf("1 validation error detected: Value '%s' at 'nameContains' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-]+", contains)
	}
	after, hasAfter := req["CreationTimeAfter"].(float64)
	before, hasBefore := req["CreationTimeBefore"].(float64)
	kept := items[:0]
	for _, it := range items {
		// NameContains matches the group's name, or the package's name
		// (a versioned package's is its group's), not the version.
		name, _ := it.row["ModelPackageName"].(string)
		if name == "" {
			name, _ = it.row["ModelPackageGroupName"].(string)
		}
		created := float64(it.created.UnixMilli()) / 1000
		switch {
		case hasContains && !strings.Contains(strings.ToLower(name), strings.ToLower(contains)):
		case hasAfter && !(created > after):
		case hasBefore && !(created < before):
		default:
			kept = append(kept, it)
		}
	}
	items = kept
	less := func(a, b listItem) bool {
		if sortBy == "Name" && a.name != b.name {
			return strings.ToLower(a.name) < strings.ToLower(b.name)
		}
		return a.seq < b.seq
	}
	sort.Slice(items, func(i, j int) bool {
		if order == "Descending" {
			return less(items[j], items[i])
		}
		return less(items[i], items[j])
	})
	raw, _ := json.Marshal(req)
	var sigReq map[string]any
	json.Unmarshal(raw, &sigReq)
	delete(sigReq, "NextToken")
	delete(sigReq, "MaxResults")
	sigB, _ := json.Marshal(sigReq)
	sig := rc.call.Operation + "|" + string(sigB)
	start := 0
	if tok, _ := req["NextToken"].(string); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		var pt pageToken
		if err != nil || json.Unmarshal(b, &pt) != nil || pt.Sig != sig {
			return nil, validationf("Invalid pagination token.")
		}
		start = len(items)
		last := listItem{name: pt.Name, seq: pt.Seq}
		for i, it := range items {
			if order == "Descending" && less(it, last) || order != "Descending" && less(last, it) {
				start = i
				break
			}
		}
	}
	end := start + max
	out := map[string]any{}
	if end < len(items) {
		last := items[end-1]
		b, _ := json.Marshal(pageToken{Seq: last.seq, Name: last.name, Sig: sig})
		out["NextToken"] = base64.RawURLEncoding.EncodeToString(b)
	} else {
		end = len(items)
	}
	rows := []map[string]any{}
	for _, it := range items[start:end] {
		rows = append(rows, it.row)
	}
	out[key] = rows
	return out, nil
}

// modelFromPackage resolves CreateModel's container that names a
// ModelPackageName: the package must exist, be Approved and have an
// inference specification; the model gets the package's first container.
func (p sagemakerProtocol) modelFromPackage(rc *reqCtx, name string) (map[string]any, string, *apiError) {
	pkg, err := p.pkg(rc, "containers.member.modelPackageName", name)
	if err != nil {
		return nil, "", err
	}
	if pkg.group != "" && pkg.approval != ApprovalApproved {
		return nil, "", validationf("Model Package %s is not approved. Only Approved model packages can be used to create a model (ModelApprovalStatus is %s).", pkg.arn, pkg.approval)
	}
	cs, _ := pkg.inference["Containers"].([]any)
	if len(cs) == 0 {
		return nil, "", validationf("Model Package %s has no InferenceSpecification.", pkg.arn)
	}
	first, _ := cs[0].(map[string]any)
	image, _ := first["Image"].(string)
	if url, _ := first["ModelDataUrl"].(string); url != "" && !p.s.s3.exists(url) {
		return nil, "", validationf("Could not find model data at %s.", url)
	}
	c := map[string]any{"ModelPackageName": pkg.arn}
	return c, image, nil
}

// createUnversioned creates an unversioned package (a Marketplace-style
// package outside any group): ARN model-package/NAME, unique regardless of
// case, without version or approval status.
func (p sagemakerProtocol) createUnversioned(rc *reqCtx, name string, req map[string]any, now time.Time) (any, *apiError) {
	if !smNameRE.MatchString(name) {
		return nil, validationf("1 validation error detected: Value '%s' at 'modelPackageName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", name)
	}
	ps := p.s.sm.pk()
	arn := p.arn(rc, "model-package", name)
	if ps.packages[arn] != nil {
		return nil, validationf("Model Package already exists: %s", arn)
	}
	inf, _ := req["InferenceSpecification"].(map[string]any)
	if inf != nil {
		if aerr := checkInference(inf); aerr != nil {
			return nil, aerr
		}
	}
	meta, aerr := metadata(req["CustomerMetadataProperties"], nil)
	if aerr != nil {
		return nil, aerr
	}
	p.s.sm.seq++
	pkg := &mpPackage{name: name, arn: arn, created: now, modified: now, seq: p.s.sm.seq, inference: inf, metadata: meta, extra: map[string]any{}}
	pkg.desc, _ = req["ModelPackageDescription"].(string)
	ps.packages[arn] = pkg
	return map[string]any{"ModelPackageArn": arn}, nil
}
