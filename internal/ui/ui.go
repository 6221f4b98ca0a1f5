// Package ui is Bridge's web dashboard: server-rendered pages (html/template
// with embedded templates and static assets, no build step and no CDN) that
// show what is served and how it is doing, what the registry holds, the
// monitoring schedules and their findings, and pipeline executions. Writes
// (promote, archive, set alias, approve) are offered only when a registry
// token is configured and the user has given it, behind a confirmation step
// and CSRF protection, and go through the registry's API.
//
// New returns an http.Handler for everything under Options.Prefix (default
// /ui); its data comes through the small interfaces below, so any process
// (bridge run, bridge ui) can mount it.
package ui

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/monitor/schedule"
	"github.com/bridgeops/bridge/internal/tsdb"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// StatusSource reports what the deploy target serves now and how the last
// reconcile pass went.
type StatusSource interface {
	Snapshot(ctx context.Context) (Snapshot, error)
}

// Snapshot is the serving state the dashboard shows.
type Snapshot struct {
	Target    string
	Endpoints []Endpoint // sorted by model, then slot
	LastPass  *Pass      // nil when unknown (no pass yet, or read from tags)
	// Source says where the view comes from ("target", or "registry" when
	// read from the registry's deploy tags).
	Source string
}

// Endpoint is one served endpoint.
type Endpoint struct {
	Model, Slot string
	Name        string // brdg-<model>-<slot>: the capture directory name
	Versions    []model.WeightedVersion
	State       string
	Message     string
	URL         string
}

// Pass is the outcome of one reconcile pass.
type Pass struct {
	At       time.Time
	Duration time.Duration
	Error    string
	Actions  []string // what it did, one line each ("done route iris/Production → v2")
	Failed   map[string]string
	Deferred []string
}

// Registry is the registry as the dashboard reads it.
type Registry interface {
	Versions(ctx context.Context) ([]model.ModelVersion, error)
}

// Actions are the writes the dashboard offers; they go through the same
// registry API as bridge models.
type Actions interface {
	TransitionStage(ctx context.Context, name string, version int, stage string, archiveExisting bool) error
	SetAlias(ctx context.Context, name, alias string, version int) error
	SetVersionTag(ctx context.Context, name string, version int, key, value string) error
}

// ActionKinds is what Actions that do not offer every write implement:
// the dashboard shows and accepts only the kinds it lists ("promote",
// "archive", "alias", "approve"). Actions without it offer all four.
type ActionKinds interface {
	ActionKinds() []string
}

// Approver is what Actions implement when approving a version is not a
// version tag (SageMaker model packages: their ModelApprovalStatus).
type Approver interface {
	Approve(ctx context.Context, name string, version int) error
}

// Series is the time-series store (*tsdb.DB).
type Series interface {
	Series(k tsdb.Key, r tsdb.Range) ([]tsdb.Point, error)
	Versions(model, slot string) []string
	Events(model, slot string) []tsdb.Event
	// Recent is the newest n events of all endpoints, newest first.
	Recent(n int) []tsdb.EndpointEvent
	// ModelEvents is every event of a model's endpoints, oldest first.
	ModelEvents(model string) []tsdb.EndpointEvent
}

// Captures reads a sample of an endpoint's captured requests.
type Captures interface {
	Recent(ctx context.Context, endpoint string, n int) ([]Captured, error)
}

// Captured is one captured invocation.
type Captured struct {
	Time              time.Time
	EventID           string
	Variant           string
	Input, Output     string
	InputContentType  string
	OutputContentType string
}

// Monitor is the monitoring schedule store (*schedule.Store).
type Monitor interface {
	List(ctx context.Context) ([]schedule.Schedule, error)
	Executions(ctx context.Context, name string, limit int) ([]schedule.Execution, error)
}

// Options configure the dashboard. Every source may be nil: its pages say
// there is nothing yet.
type Options struct {
	// Prefix is the path the handler is mounted at (default "/ui").
	Prefix    string
	Status    StatusSource
	Registry  Registry
	Series    Series
	Captures  Captures
	Monitor   Monitor
	Pipelines Pipelines
	// Actions and Token enable writes: both must be set, and the user must
	// sign in with Token.
	Actions Actions
	Token   string
	// ReadOnly says why writes are off, shown in the header ("bridge ui is
	// read-only").
	ReadOnly string
	// PageSize is the number of endpoints per overview page (default 50).
	PageSize int
	// Refresh is the live-refresh period of the pages (default 5s).
	Refresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Log receives request errors (default slog.Default()).
	Log *slog.Logger
}

// UI is the dashboard handler.
type UI struct {
	o      Options
	logins loginLimiter
	mux    *http.ServeMux
	pages  map[string]*template.Template
}

// New returns the dashboard.
func New(o Options) *UI {
	if o.Prefix == "" {
		o.Prefix = "/ui"
	}
	o.Prefix = strings.TrimRight(o.Prefix, "/")
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	if o.Refresh <= 0 {
		o.Refresh = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Status != nil {
		o.Status = &cachedStatus{src: o.Status, now: o.Now}
	}
	if o.Registry != nil {
		o.Registry = &cachedRegistry{src: o.Registry, now: o.Now}
	}
	u := &UI{o: o, mux: http.NewServeMux(), pages: parseTemplates(o.Prefix)}
	p := o.Prefix
	static, _ := fs.Sub(staticFS, "static")
	u.mux.Handle("GET "+p+"/static/", http.StripPrefix(p+"/static/", cacheStatic(http.FileServerFS(static))))
	u.mux.HandleFunc("GET "+p+"/{$}", u.overview)
	u.mux.HandleFunc("GET "+p+"/endpoints/{model}/{slot}", u.endpoint)
	u.mux.HandleFunc("GET "+p+"/models/{model}", u.modelPage)
	u.mux.HandleFunc("GET "+p+"/monitoring", u.monitoring)
	u.mux.HandleFunc("GET "+p+"/monitoring/{schedule}", u.schedulePage)
	u.mux.HandleFunc("GET "+p+"/pipelines", u.pipelines)
	u.mux.HandleFunc("GET "+p+"/login", u.loginForm)
	u.mux.HandleFunc("POST "+p+"/login", u.login)
	u.mux.HandleFunc("POST "+p+"/logout", u.logout)
	u.mux.HandleFunc("POST "+p+"/actions/confirm", u.confirmAction)
	u.mux.HandleFunc("POST "+p+"/actions/apply", u.applyAction)
	return u
}

// ServeHTTP serves the dashboard with security headers on every answer.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if r.URL.Path == u.o.Prefix {
		http.Redirect(w, r, u.o.Prefix+"/", http.StatusMovedPermanently)
		return
	}
	u.mux.ServeHTTP(w, r)
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// writable reports whether the dashboard offers writes at all.
func (u *UI) writable() bool { return u.o.Actions != nil && u.o.Token != "" }

// offers reports whether the dashboard offers the action kind.
func (u *UI) offers(kind string) bool {
	if !u.writable() {
		return false
	}
	k, ok := u.o.Actions.(ActionKinds)
	if !ok {
		return true
	}
	for _, x := range k.ActionKinds() {
		if x == kind {
			return true
		}
	}
	return false
}
