// Package iampolicy holds the least-privilege IAM policies of Bridge's
// SageMaker target (one for init/destroy, one for run, copied verbatim from
// the SageMaker deploy-target guide) and evaluates IAM policy documents:
// which actions on which resources a policy allows.
//
// Evaluation follows IAM's rules for identity policies: a request is allowed
// when some Allow statement matches it and no Deny statement does. Action
// names match case-insensitively, resource ARNs case-sensitively; both take
// the wildcards `*` (any run of characters) and `?` (any one character).
// Conditions, principals and policy variables are not supported (Bridge's
// policies use none); a statement that has them is rejected by Parse.
package iampolicy

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Placeholders in the policy documents, as in the guide.
const (
	AccountPlaceholder = "<YOUR_ACCOUNT_ID>"
	RegionPlaceholder  = "<YOUR_REGION>"
)

// Names of the policies, as `bridge policy NAME` takes them.
const (
	Init    = "init"
	Run     = "run"
	Destroy = "destroy"
)

//go:embed policies/init-destroy.json
var initDestroyDoc string

//go:embed policies/run.json
var runDoc string

// Template returns the policy document for a command (init, run or destroy)
// with its placeholders as they are in the guide. init and destroy share one
// policy.
func Template(command string) (string, error) {
	switch command {
	case Init, Destroy:
		return initDestroyDoc, nil
	case Run:
		return runDoc, nil
	case Pipeline:
		return pipelineDoc, nil
	}
	return "", fmt.Errorf("unknown policy %q: want init, run, destroy or pipeline", command)
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// Render returns the policy document for a command with the account id and
// region filled in. It checks both so a typo cannot produce a policy that
// silently grants nothing.
func Render(command, account, region string) (string, error) {
	doc, err := Template(command)
	if err != nil {
		return "", err
	}
	if !accountRE.MatchString(account) {
		return "", fmt.Errorf("account id %q: want the 12 digits `aws sts get-caller-identity` prints", account)
	}
	if !regionRE.MatchString(region) {
		return "", fmt.Errorf("region %q: want an AWS region name such as eu-west-1", region)
	}
	doc = strings.ReplaceAll(doc, AccountPlaceholder, account)
	return strings.ReplaceAll(doc, RegionPlaceholder, region), nil
}

// MustPolicy renders and parses the policy of a command; it panics on error
// and is meant for tests and fixed inputs.
func MustPolicy(command, account, region string) *Policy {
	doc, err := Render(command, account, region)
	if err != nil {
		panic(err)
	}
	p, err := Parse([]byte(doc))
	if err != nil {
		panic(err)
	}
	return p
}

// Policy is a parsed IAM policy document.
type Policy struct {
	Version    string      `json:"Version"`
	Statements []Statement `json:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid         string          `json:"Sid,omitempty"`
	Effect      string          `json:"Effect"`
	Action      StringOrList    `json:"Action,omitempty"`
	NotAction   StringOrList    `json:"NotAction,omitempty"`
	Resource    StringOrList    `json:"Resource,omitempty"`
	NotResource StringOrList    `json:"NotResource,omitempty"`
	Condition   json.RawMessage `json:"Condition,omitempty"`
	Principal   json.RawMessage `json:"Principal,omitempty"`
}

// StringOrList is a JSON value that is either one string or a list of strings.
type StringOrList []string

// UnmarshalJSON implements json.Unmarshaler.
func (s *StringOrList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StringOrList{one}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("want a string or a list of strings: %w", err)
	}
	*s = list
	return nil
}

// Parse parses a policy document and checks it is one this package can
// evaluate exactly.
func Parse(doc []byte) (*Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	if p.Version != "2012-10-17" {
		return nil, fmt.Errorf("parse policy: Version %q: want 2012-10-17", p.Version)
	}
	if len(p.Statements) == 0 {
		return nil, fmt.Errorf("parse policy: no statements")
	}
	for i, st := range p.Statements {
		where := fmt.Sprintf("statement %d (%s)", i, st.Sid)
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("parse policy: %s: Effect %q: want Allow or Deny", where, st.Effect)
		}
		if len(st.Action) == 0 || len(st.NotAction) > 0 {
			return nil, fmt.Errorf("parse policy: %s: want Action (NotAction is not supported)", where)
		}
		if len(st.Resource) == 0 || len(st.NotResource) > 0 {
			return nil, fmt.Errorf("parse policy: %s: want Resource (NotResource is not supported)", where)
		}
		if len(st.Condition) > 0 || len(st.Principal) > 0 {
			return nil, fmt.Errorf("parse policy: %s: Condition and Principal are not supported", where)
		}
	}
	return &p, nil
}

// Allowed reports whether the policy allows action (service:Action) on the
// resource ARN.
func (p *Policy) Allowed(action, resource string) bool {
	allowed := false
	for _, st := range p.Statements {
		if !st.matches(action, resource) {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

func (st Statement) matches(action, resource string) bool {
	okAction := false
	for _, a := range st.Action {
		if Match(strings.ToLower(a), strings.ToLower(action)) {
			okAction = true
			break
		}
	}
	if !okAction {
		return false
	}
	for _, r := range st.Resource {
		if Match(r, resource) {
			return true
		}
	}
	return false
}

// Match reports whether s matches the IAM wildcard pattern: `*` matches any
// run of characters (also none), `?` exactly one; everything else matches
// itself.
func Match(pattern, s string) bool {
	// Iterative glob matching with backtracking to the last star: linear
	// in practice, no recursion.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// SeedPolicy extracts a policy document from the SageMaker deploy-target
// guide (docs/seeds/000_9ad168cfbf4cc7b3.txt): the first ```json block after
// the anchor `<a name="ANCHOR"></a>` ("init-destroy-policy" or "run-policy").
func SeedPolicy(guide, anchor string) (string, error) {
	i := strings.Index(guide, `<a name="`+anchor+`"></a>`)
	if i < 0 {
		return "", fmt.Errorf("anchor %q not found in the guide", anchor)
	}
	const fence = "```json\n"
	j := strings.Index(guide[i:], fence)
	if j < 0 {
		return "", fmt.Errorf("no json block after anchor %q", anchor)
	}
	start := i + j + len(fence)
	k := strings.Index(guide[start:], "```")
	if k < 0 {
		return "", fmt.Errorf("unterminated json block after anchor %q", anchor)
	}
	return guide[start : start+k], nil
}
