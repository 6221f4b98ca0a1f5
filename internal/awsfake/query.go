package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"
)

// AWS managed policies the fake knows (attachable by ARN).
var managedPolicies = map[string]bool{
	"arn:aws:iam::aws:policy/AmazonSageMakerFullAccess": true,
	"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess":    true,
}

type iamRole struct {
	name, arn, id string
	trust         string
	attached      map[string]bool
	created       time.Time
}

type iamState struct {
	roles map[string]*iamRole // by lower-case name (IAM names are case-insensitive)
	// AssumedTags records the session tags of every AssumeRole call.
	assumed []AssumedSession
}

// AssumedSession is one successful sts:AssumeRole.
type AssumedSession struct {
	RoleARN, SessionName, AccessKey string
	Tags                            map[string]string
}

func (st *iamState) init() { st.roles = map[string]*iamRole{} }

// canSageMakerAssume reports whether roleARN names an existing role whose
// trust policy lets sagemaker.amazonaws.com assume it.
func (st *iamState) canSageMakerAssume(roleARN string) bool {
	i := strings.LastIndex(roleARN, ":role/")
	if i < 0 {
		return false
	}
	name := roleARN[i+len(":role/"):]
	if j := strings.LastIndexByte(name, '/'); j >= 0 {
		name = name[j+1:]
	}
	r := st.roles[strings.ToLower(name)]
	return r != nil && r.arn == roleARN && strings.Contains(r.trust, "sagemaker.amazonaws.com") && strings.Contains(r.trust, "sts:AssumeRole")
}

type queryProtocol struct {
	s       *Server
	service string
	ns      string
}

func (p queryProtocol) form(rc *reqCtx) url.Values {
	v, _ := url.ParseQuery(string(rc.body))
	if v == nil {
		v = url.Values{}
	}
	for k, vs := range rc.r.URL.Query() {
		v[k] = vs
	}
	return v
}

func (p queryProtocol) roleARN(name string) string {
	return "arn:aws:iam::" + p.s.opts.Account + ":role/" + name
}

func (p queryProtocol) operation(rc *reqCtx) (string, *apiError) {
	f := p.form(rc)
	op := f.Get("Action")
	if op == "" {
		return "", errorf(400, "MissingAction", "Missing Action")
	}
	switch p.service + ":" + op {
	case "iam:CreateRole", "iam:DeleteRole", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:GetRole", "iam:ListAttachedRolePolicies":
		rc.authz("iam:"+op, p.roleARN(f.Get("RoleName")))
	case "sts:GetCallerIdentity":
		rc.authz("sts:GetCallerIdentity", "*")
	case "sts:AssumeRole":
		rc.authz("sts:AssumeRole", f.Get("RoleArn"))
		if f.Get("Tags.member.1.Key") != "" {
			rc.authz("sts:TagSession", f.Get("RoleArn"))
		}
	default:
		rc.authz(p.service+":"+op, "*")
		return op, errorf(400, "InvalidAction", "awsfake: %s:%s is not emulated", p.service, op)
	}
	return op, nil
}

func (p queryProtocol) throttle() *apiError {
	return errorf(400, "Throttling", "Rate exceeded")
}

func (p queryProtocol) unknownKey(key string) *apiError {
	if key == "" {
		return errorf(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	return errorf(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

func (p queryProtocol) serverError() *apiError {
	return errorf(500, "ServiceFailure", "The request processing has failed because of an unknown error, exception or failure.")
}

func (p queryProtocol) errorResponse(rc *reqCtx, e *apiError) response {
	type errBody struct {
		Type    string
		Code    string
		Message string
	}
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	b, _ := xml.Marshal(struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		NS        string   `xml:"xmlns,attr"`
		Error     errBody
		RequestID string `xml:"RequestId"`
	}{NS: p.ns, Error: errBody{typ, e.code, e.message}, RequestID: requestID()})
	return response{status: e.status, code: e.code, contentType: "text/xml", body: b}
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// ok wraps result as <OpResponse><OpResult>...</OpResult><ResponseMetadata/></OpResponse>.
func (p queryProtocol) ok(op string, result any) response {
	type wrapper struct {
		XMLName  xml.Name
		NS       string           `xml:"xmlns,attr"`
		Result   any              `xml:",omitempty"`
		Metadata responseMetadata `xml:"ResponseMetadata"`
	}
	w := wrapper{XMLName: xml.Name{Local: op + "Response"}, NS: p.ns, Metadata: responseMetadata{requestID()}}
	if result != nil {
		w.Result = result
	}
	b, err := xml.Marshal(w)
	if err != nil {
		panic(err)
	}
	return response{status: 200, contentType: "text/xml", body: b}
}

type roleXML struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               string
	AssumeRolePolicyDocument string
}

var (
	roleNameRE    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	tagKeyRE      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
)

func (p queryProtocol) handle(rc *reqCtx) response {
	f := p.form(rc)
	op := rc.call.Operation
	st := &p.s.iam
	now := p.s.opts.Clock()
	fail := func(e *apiError) response { return p.errorResponse(rc, e) }
	roleName := f.Get("RoleName")
	role := st.roles[strings.ToLower(roleName)]
	noRole := func() response {
		return fail(errorf(404, "NoSuchEntity", "The role with name %s cannot be found.", roleName))
	}
	switch p.service + ":" + op {
	case "iam:CreateRole":
		if !roleNameRE.MatchString(roleName) {
			return fail(errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleName' failed to satisfy constraint", roleName))
		}
		doc := f.Get("AssumeRolePolicyDocument")
		var js map[string]any
		if json.Unmarshal([]byte(doc), &js) != nil {
			return fail(errorf(400, "MalformedPolicyDocument", "This policy contains invalid Json"))
		}
		if role != nil {
			return fail(errorf(409, "EntityAlreadyExists", "Role with name %s already exists.", roleName))
		}
		role = &iamRole{name: roleName, arn: p.roleARN(roleName), id: "AROA" + strings.ToUpper(requestID()[:17]),
			trust: doc, attached: map[string]bool{}, created: now}
		st.roles[strings.ToLower(roleName)] = role
		return p.ok(op, struct {
			XMLName xml.Name `xml:"CreateRoleResult"`
			Role    roleXML
		}{Role: roleXML{"/", role.name, role.id, role.arn, now.UTC().Format(time.RFC3339), url.QueryEscape(doc)}})
	case "iam:GetRole":
		if role == nil {
			return noRole()
		}
		return p.ok(op, struct {
			XMLName xml.Name `xml:"GetRoleResult"`
			Role    roleXML
		}{Role: roleXML{"/", role.name, role.id, role.arn, role.created.UTC().Format(time.RFC3339), url.QueryEscape(role.trust)}})
	case "iam:AttachRolePolicy":
		if role == nil {
			return noRole()
		}
		arn := f.Get("PolicyArn")
		if !managedPolicies[arn] {
			return fail(errorf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn))
		}
		role.attached[arn] = true
		return p.ok(op, nil)
	case "iam:DetachRolePolicy":
		if role == nil {
			return noRole()
		}
		arn := f.Get("PolicyArn")
		if !role.attached[arn] {
			return fail(errorf(404, "NoSuchEntity", "Policy %s was not found.", arn))
		}
		delete(role.attached, arn)
		return p.ok(op, nil)
	case "iam:ListAttachedRolePolicies":
		if role == nil {
			return noRole()
		}
		type ap struct{ PolicyName, PolicyArn string }
		var list []ap
		for arn := range role.attached {
			list = append(list, ap{arn[strings.LastIndexByte(arn, '/')+1:], arn})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].PolicyArn < list[j].PolicyArn })
		return p.ok(op, struct {
			XMLName          xml.Name `xml:"ListAttachedRolePoliciesResult"`
			AttachedPolicies []ap     `xml:"AttachedPolicies>member"`
			IsTruncated      bool
		}{AttachedPolicies: list})
	case "iam:DeleteRole":
		if role == nil {
			return noRole()
		}
		if len(role.attached) > 0 {
			return fail(errorf(409, "DeleteConflict", "Cannot delete entity, must detach all policies first."))
		}
		delete(st.roles, strings.ToLower(roleName))
		return p.ok(op, nil)
	case "sts:GetCallerIdentity":
		sess, ok := p.s.sessions[rc.call.AccessKey]
		if !ok {
			return fail(errorf(403, "InvalidClientTokenId", "The security token included in the request is invalid."))
		}
		return p.ok(op, struct {
			XMLName xml.Name `xml:"GetCallerIdentityResult"`
			Arn     string
			UserId  string
			Account string
		}{Arn: sess.arn, UserId: sess.userID, Account: p.s.opts.Account})
	case "sts:AssumeRole":
		return p.assumeRole(rc, f, now)
	}
	return fail(errorf(400, "InvalidAction", "awsfake: %s is not emulated", op))
}

func (p queryProtocol) assumeRole(rc *reqCtx, f url.Values, now time.Time) response {
	fail := func(e *apiError) response { return p.errorResponse(rc, e) }
	if _, ok := p.s.sessions[rc.call.AccessKey]; !ok {
		return fail(errorf(403, "InvalidClientTokenId", "The security token included in the request is invalid."))
	}
	roleARN := f.Get("RoleArn")
	i := strings.Index(roleARN, ":role/")
	if !strings.HasPrefix(roleARN, "arn:aws:iam::") || i < 0 {
		return fail(errorf(400, "ValidationError", "%s is invalid", roleARN))
	}
	if !strings.HasPrefix(roleARN, "arn:aws:iam::"+p.s.opts.Account+":") {
		return fail(errorf(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.s.sessions[rc.call.AccessKey].arn, roleARN))
	}
	sessionName := f.Get("RoleSessionName")
	if !sessionNameRE.MatchString(sessionName) {
		return fail(errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", sessionName))
	}
	tags := map[string]string{}
	for n := 1; ; n++ {
		k := f.Get(fmt.Sprintf("Tags.member.%d.Key", n))
		if k == "" {
			break
		}
		v := f.Get(fmt.Sprintf("Tags.member.%d.Value", n))
		if !tagKeyRE.MatchString(k) || len(v) > 256 {
			return fail(errorf(400, "ValidationError", "Invalid session tag %q.", k))
		}
		tags[k] = v
	}
	if len(tags) > 50 {
		return fail(errorf(400, "ValidationError", "Too many session tags."))
	}
	roleName := roleARN[i+len(":role/"):]
	key := "ASIA" + strings.ToUpper(requestID()[:16])
	secret := requestID() + requestID()[:8]
	p.s.sessions[key] = session{
		arn:    fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", p.s.opts.Account, roleName, sessionName),
		userID: "AROAEXAMPLEROLEID0001:" + sessionName,
		secret: secret,
	}
	p.s.iam.assumed = append(p.s.iam.assumed, AssumedSession{RoleARN: roleARN, SessionName: sessionName, AccessKey: key, Tags: tags})
	type creds struct {
		AccessKeyId, SecretAccessKey, SessionToken, Expiration string
	}
	type user struct{ AssumedRoleId, Arn string }
	return p.ok("AssumeRole", struct {
		XMLName          xml.Name `xml:"AssumeRoleResult"`
		Credentials      creds
		AssumedRoleUser  user
		PackedPolicySize int
	}{
		Credentials:      creds{key, secret, "FQoGZXIvYXdzE" + requestID(), now.Add(time.Hour).UTC().Format(time.RFC3339)},
		AssumedRoleUser:  user{"AROAEXAMPLEROLEID0001:" + sessionName, p.s.sessions[key].arn},
		PackedPolicySize: 6,
	})
}

// IAM and STS inspection for tests.

// RoleInfo is a snapshot of one role.
type RoleInfo struct {
	Name, ARN, TrustPolicy string
	Attached               []string
}

// Roles returns every role, sorted by name.
func (s *Server) Roles() []RoleInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RoleInfo
	for _, r := range s.iam.roles {
		ri := RoleInfo{Name: r.name, ARN: r.arn, TrustPolicy: r.trust}
		for a := range r.attached {
			ri.Attached = append(ri.Attached, a)
		}
		sort.Strings(ri.Attached)
		out = append(out, ri)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// AssumedSessions returns every successful AssumeRole so far.
func (s *Server) AssumedSessions() []AssumedSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumedSession(nil), s.iam.assumed...)
}

// PutRole creates a role directly, without a recorded call.
func (s *Server) PutRole(name, trust string, attached ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &iamRole{name: name, arn: "arn:aws:iam::" + s.opts.Account + ":role/" + name, trust: trust, attached: map[string]bool{}, created: s.opts.Clock()}
	for _, a := range attached {
		r.attached[a] = true
	}
	s.iam.roles[strings.ToLower(name)] = r
}
