// Package awsfake is an in-process AWS emulator for tests: one HTTP server on
// loopback that speaks SageMaker's JSON 1.1 protocol, S3's REST protocol
// (path-style) and IAM's and STS's query protocol, so that the real AWS SDK
// for Go can be pointed at it with endpoint overrides (AWS_ENDPOINT_URL).
//
// It follows the AWS API references where Bridge depends on them: endpoint
// status transitions over time (Creating → InService or Failed, Updating →
// InService, with a failed update rolling back to the old config, Deleting →
// gone), SageMaker's ValidationException for missing and duplicate resources
// and for updates or deletes of in-progress endpoints, case-insensitive
// SageMaker names and lower-cased ARNs, ListX pagination with MaxResults
// (default 10, at most 100) and NextToken, NameContains substring matching,
// S3's location-constraint rules and error codes, IAM's EntityAlreadyExists,
// NoSuchEntity and DeleteConflict. Signatures are not verified; the access
// key in the SigV4 Authorization header identifies the caller.
//
// Every request is recorded with the IAM actions and resource ARNs AWS
// would authorise it against (CreateModel also needs iam:PassRole on its
// execution role), so tests can check a command's calls against an IAM
// policy. Faults (throttling, 5xx before or after the work is done) can be
// injected on a share of the calls.
package awsfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/iampolicy"
)

// Default test identity.
const (
	DefaultAccount   = "123456789012"
	DefaultRegion    = "us-east-1"
	DefaultAccessKey = "AKIAIOSFODNN7EXAMPLE"
	DefaultSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	DefaultUser      = "bridge-test"
)

// Options configure a Server. The zero value is usable.
type Options struct {
	// Account is the AWS account id of every caller (default DefaultAccount).
	Account string
	// Clock returns the current time (default time.Now). Use a ManualClock
	// to step endpoint transitions explicitly.
	Clock func() time.Time
	// CreateDelay, UpdateDelay and DeleteDelay are how long an endpoint stays
	// Creating, Updating and Deleting (defaults 30ms, 30ms, 10ms).
	CreateDelay, UpdateDelay, DeleteDelay time.Duration
	// FailImage makes an endpoint create or update fail when the image of
	// one of its models contains it (default "fail"; "-" disables).
	FailImage string
	// FailEndpoint, when set, is asked on every create and update; a
	// non-empty reason makes it fail.
	FailEndpoint func(endpoint string, images []string) string
	// ForeignBuckets are bucket names that exist in another account.
	ForeignBuckets []string
	// InstanceQuota limits the instances of each type that endpoints may
	// use at once (deployed and being deployed, as during a blue/green
	// update); CreateEndpoint and UpdateEndpoint beyond it answer
	// ResourceLimitExceeded. Types not listed are unlimited.
	InstanceQuota map[string]int
	// Seed seeds fault injection (default 1).
	Seed int64
	// Latency delays every answer, like a network round trip to AWS.
	Latency time.Duration
}

// Faults are the shares (0..1) of calls that fail instead of being served.
type Faults struct {
	// Throttle answers with the service's throttling error (SageMaker
	// ThrottlingException 400, S3 SlowDown 503, IAM/STS Throttling 400)
	// without doing the work.
	Throttle float64
	// ServerError answers 500 without doing the work.
	ServerError float64
	// LostResponse does the work, then answers 500: the caller cannot tell
	// whether it happened (a retry of a create meets "already exists").
	LostResponse float64
}

// Authz is one authorisation AWS performs for a call.
type Authz struct {
	Action   string // service:Action
	Resource string // ARN, or "*"
}

// Call is one recorded request.
type Call struct {
	Time      time.Time
	Service   string // sagemaker, s3, iam, sts
	Operation string // API operation name, e.g. CreateEndpoint
	AccessKey string
	Principal string // caller ARN
	Authz     []Authz
	Status    int
	ErrorCode string // empty on success
	Fault     string // injected fault kind, if any
}

func (c Call) String() string {
	s := c.Service + ":" + c.Operation
	for _, a := range c.Authz {
		s += " [" + a.Action + " " + a.Resource + "]"
	}
	if c.ErrorCode != "" {
		s += " -> " + c.ErrorCode
	}
	return s
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	URL string

	opts Options
	srv  *httptest.Server

	mu       sync.Mutex
	rng      *mrand.Rand
	faults   Faults
	calls    []Call
	sessions map[string]session // access key -> identity

	sm  sagemakerState
	s3  s3State
	iam iamState
	pl  pipelineState
}

type session struct {
	arn, userID, secret string
}

// New starts a fake on a loopback port. Close it when done.
func New(opts Options) *Server {
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.CreateDelay == 0 {
		opts.CreateDelay = 30 * time.Millisecond
	}
	if opts.UpdateDelay == 0 {
		opts.UpdateDelay = 30 * time.Millisecond
	}
	if opts.DeleteDelay == 0 {
		opts.DeleteDelay = 10 * time.Millisecond
	}
	if opts.FailImage == "" {
		opts.FailImage = "fail"
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	s := &Server{
		opts:     opts,
		rng:      mrand.New(mrand.NewSource(opts.Seed)),
		sessions: map[string]session{},
	}
	s.sessions[DefaultAccessKey] = session{
		arn:    "arn:aws:iam::" + opts.Account + ":user/" + DefaultUser,
		userID: "AIDAEXAMPLEUSERID0001",
		secret: DefaultSecretKey,
	}
	s.sm.init()
	s.s3.init(opts.ForeignBuckets)
	s.iam.init()
	s.pl.init()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Account is the account id the fake reports.
func (s *Server) Account() string { return s.opts.Account }

// Env returns the environment variables that point the AWS SDK at the fake
// with the default static test credentials.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":            s.URL,
		"AWS_ACCESS_KEY_ID":           DefaultAccessKey,
		"AWS_SECRET_ACCESS_KEY":       DefaultSecretKey,
		"AWS_REGION":                  DefaultRegion,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             "/nonexistent/aws-config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
	}
}

// SetFaults changes the fault shares for the following calls.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Calls returns a copy of every call recorded so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// Mark returns a position in the call log for CallsSince.
func (s *Server) Mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// CallsSince returns the calls recorded after Mark returned mark.
func (s *Server) CallsSince(mark int) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mark > len(s.calls) {
		mark = len(s.calls)
	}
	return append([]Call(nil), s.calls[mark:]...)
}

// Violations lists every authorisation in calls that policy does not allow,
// except for the exempt actions (e.g. sts:GetCallerIdentity, which needs no
// permission).
func Violations(calls []Call, policy *iampolicy.Policy, exempt ...string) []string {
	ex := map[string]bool{}
	for _, e := range exempt {
		ex[strings.ToLower(e)] = true
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range calls {
		for _, a := range c.Authz {
			if ex[strings.ToLower(a.Action)] || policy.Allowed(a.Action, a.Resource) {
				continue
			}
			v := fmt.Sprintf("%s (%s %s)", a.Action, c.Operation, a.Resource)
			if !seen[v] {
				seen[v] = true
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Operations counts the calls per service:Operation.
func Operations(calls []Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		out[c.Service+":"+c.Operation]++
	}
	return out
}

// apiError is an error answer in the service's own format.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// reqCtx is what handlers get: the request, its parsed identity and the
// call being recorded.
type reqCtx struct {
	r       *http.Request
	body    []byte
	region  string
	service string
	call    *Call
}

func (rc *reqCtx) authz(action, resource string) {
	rc.call.Authz = append(rc.call.Authz, Authz{Action: action, Resource: resource})
}

var credRE = regexp.MustCompile(`Credential=([^/,\s]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request`)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if s.opts.Latency > 0 {
		time.Sleep(s.opts.Latency) // simulated round trip, outside the lock
	}
	rc := &reqCtx{r: r, body: body, region: DefaultRegion, call: &Call{}}
	if m := credRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		rc.call.AccessKey, rc.region, rc.service = m[1], m[2], m[3]
	}
	switch {
	case rc.service == "" && r.Header.Get("X-Amz-Target") != "":
		rc.service = "sagemaker"
	case rc.service == "":
		rc.service = "s3"
	}
	rc.call.Service = rc.service
	if enc := r.Header.Get("Content-Encoding"); strings.Contains(enc, "aws-chunked") ||
		strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-") {
		dec, err := decodeAWSChunked(body)
		if err != nil {
			http.Error(w, "bad aws-chunked body: "+err.Error(), http.StatusBadRequest)
			return
		}
		rc.body = dec
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rc.call.Time = s.opts.Clock()
	sess, known := s.sessions[rc.call.AccessKey]
	if known {
		rc.call.Principal = sess.arn
	}

	var p protocol
	switch rc.service {
	case "sagemaker":
		p = sagemakerProtocol{s}
	case "s3":
		p = s3Protocol{s}
	case "iam":
		p = queryProtocol{s: s, service: "iam", ns: "https://iam.amazonaws.com/doc/2010-05-08/"}
	case "sts":
		p = queryProtocol{s: s, service: "sts", ns: "https://sts.amazonaws.com/doc/2011-06-15/"}
	default:
		http.Error(w, "awsfake: unsupported service "+rc.service, http.StatusNotImplemented)
		return
	}
	op, perr := p.operation(rc)
	rc.call.Operation = op

	var status int
	var resp response
	fault := s.pickFault()
	switch {
	case !known:
		// Signatures are not verified, but the key must be one AWS issued.
		fault = ""
		resp = p.errorResponse(rc, p.unknownKey(rc.call.AccessKey))
	case perr != nil:
		resp = p.errorResponse(rc, perr)
	case fault == "throttle":
		resp = p.errorResponse(rc, p.throttle())
	case fault == "server":
		resp = p.errorResponse(rc, p.serverError())
	default:
		resp = p.handle(rc)
		if fault == "lost" {
			resp = p.errorResponse(rc, p.serverError())
		}
	}
	rc.call.Fault = fault
	status = resp.status
	rc.call.Status = status
	if status >= 300 {
		rc.call.ErrorCode = resp.code
	}
	s.calls = append(s.calls, *rc.call)
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	if resp.contentType != "" {
		w.Header().Set("Content-Type", resp.contentType)
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(resp.body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(resp.body)
	}
}

func (s *Server) pickFault() string {
	f := s.faults
	if f.Throttle+f.ServerError+f.LostResponse <= 0 {
		return ""
	}
	x := s.rng.Float64()
	switch {
	case x < f.Throttle:
		return "throttle"
	case x < f.Throttle+f.ServerError:
		return "server"
	case x < f.Throttle+f.ServerError+f.LostResponse:
		return "lost"
	}
	return ""
}

// response is a serialised answer.
type response struct {
	status      int
	code        string // error code, for the call log
	contentType string
	header      map[string]string
	body        []byte
}

// protocol is one wire protocol.
type protocol interface {
	// operation names the operation and records its authorisations; an
	// error means the request is malformed.
	operation(rc *reqCtx) (string, *apiError)
	handle(rc *reqCtx) response
	errorResponse(rc *reqCtx, e *apiError) response
	throttle() *apiError
	serverError() *apiError
	unknownKey(key string) *apiError
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// decodeAWSChunked decodes an aws-chunked body: hex-size[;ext]\r\n data
// \r\n ... 0[;ext]\r\n [trailers] \r\n.
func decodeAWSChunked(b []byte) ([]byte, error) {
	var out bytes.Buffer
	for {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return nil, fmt.Errorf("missing chunk header")
		}
		head := string(b[:i])
		if j := strings.IndexByte(head, ';'); j >= 0 {
			head = head[:j]
		}
		var n int
		if _, err := fmt.Sscanf(head, "%x", &n); err != nil {
			return nil, fmt.Errorf("chunk size %q: %w", head, err)
		}
		b = b[i+2:]
		if n == 0 {
			return out.Bytes(), nil // trailers follow; ignored
		}
		if len(b) < n+2 {
			return nil, fmt.Errorf("short chunk")
		}
		out.Write(b[:n])
		b = b[n+2:]
	}
}

// ManualClock is a clock that moves only when told; use its Now as
// Options.Clock.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock stopped at a fixed instant.
func NewManualClock() *ManualClock {
	return &ManualClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
