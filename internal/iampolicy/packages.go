package iampolicy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Sids of the statements BRIDGE_REGISTRY=sagemaker adds to the run policy.
const (
	SidPackageGroups = "BridgeModelPackageGroups"
	SidListPackages  = "BridgeListModelPackages"
)

// PackageGroupStatements are what bridge run needs beyond the run policy
// when SageMaker model package groups are its registry: reading the groups
// and their packages and writing approval and deploy state
// (UpdateModelPackage), scoped to the groups (all groups when none are
// named); and the two listings, which IAM cannot scope to a resource
// (their Resource must be "*").
func PackageGroupStatements(account, region string, groups []string) ([]Statement, error) {
	if !accountRE.MatchString(account) {
		return nil, fmt.Errorf("account id %q: want the 12 digits `aws sts get-caller-identity` prints", account)
	}
	if !regionRE.MatchString(region) {
		return nil, fmt.Errorf("region %q: want an AWS region name such as eu-west-1", region)
	}
	names := groups
	if len(names) == 0 {
		names = []string{"*"}
	}
	var res []string
	for _, g := range names {
		g = strings.ToLower(g) // SageMaker ARNs spell names in lower case
		res = append(res,
			fmt.Sprintf("arn:aws:sagemaker:%s:%s:model-package-group/%s", region, account, g),
			fmt.Sprintf("arn:aws:sagemaker:%s:%s:model-package/%s/*", region, account, g))
	}
	return []Statement{
		{Sid: SidPackageGroups, Effect: "Allow", Action: StringOrList{
			"sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"},
			Resource: res},
		{Sid: SidListPackages, Effect: "Allow", Action: StringOrList{
			"sagemaker:ListModelPackageGroups", "sagemaker:ListModelPackages"}, Resource: StringOrList{"*"}},
	}, nil
}

// WithStatements returns a copy of p with sts appended.
func (p *Policy) WithStatements(sts ...Statement) *Policy {
	out := &Policy{Version: p.Version}
	out.Statements = append(append(out.Statements, p.Statements...), sts...)
	return out
}

// AppendStatements adds statements to a rendered policy document, keeping
// its layout (four-space indent).
func AppendStatements(doc string, sts ...Statement) (string, error) {
	var raw struct {
		Version   string            `json:"Version"`
		Statement []json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return "", fmt.Errorf("parse policy: %w", err)
	}
	for _, st := range sts {
		b, err := json.Marshal(st)
		if err != nil {
			return "", err
		}
		raw.Statement = append(raw.Statement, b)
	}
	b, err := json.MarshalIndent(raw, "", "    ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}
