package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bridgeops/bridge/internal/model"
)

const (
	sessionCookie = "bridge_ui_session"
	csrfCookie    = "bridge_ui_csrf"
	csrfField     = "csrf"
	// ApprovalTag is the version tag that holds a version's approval, with
	// SageMaker's ModelApprovalStatus values (Approved, Rejected,
	// PendingManualApproval): the tag a pipeline's RegisterModel step
	// writes, and the one Approve sets.
	ApprovalTag = "sagemaker_model_approval_status"
	// legacyApprovalTag is where earlier dashboards recorded an approval;
	// it is still read.
	legacyApprovalTag = "model_approval_status"
	approvedValue     = "Approved"
)

// session is the value of the session cookie: an HMAC of the token, so the
// cookie proves the user gave the token without carrying it.
func (u *UI) session() string {
	m := hmac.New(sha256.New, []byte(u.o.Token))
	m.Write([]byte("bridge-ui-session-v1"))
	return hex.EncodeToString(m.Sum(nil))
}

// signedIn reports whether the request carries a valid session.
func (u *UI) signedIn(r *http.Request) bool {
	if !u.writable() {
		return false
	}
	c, err := r.Cookie(sessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(u.session())) == 1
}

// csrfToken returns the request's CSRF token, setting the cookie when the
// browser has none (double-submit: forms carry the cookie's value).
func (u *UI) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := hex.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: tok, Path: u.o.Prefix + "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	// Later reads in this request see it too.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: tok})
	return tok
}

// checkForm rejects cross-site posts: the form's CSRF field must match the
// cookie, and the browser must not call it cross-site.
func (u *UI) checkForm(r *http.Request) error {
	if s := r.Header.Get("Sec-Fetch-Site"); s == "cross-site" || s == "same-site" {
		return fmt.Errorf("cross-site form post refused")
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		if ou, err := url.Parse(o); err != nil || ou.Host != r.Host {
			return fmt.Errorf("form post from origin %q refused", o)
		}
	}
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("read form: %w", err)
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || len(c.Value) != 64 || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue(csrfField))) != 1 {
		return fmt.Errorf("the form's CSRF token is missing or stale: reload the page and try again")
	}
	return nil
}

func (u *UI) loginForm(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, "login", "Sign in", map[string]any{"Next": safeNext(u.o.Prefix, r.URL.Query().Get("next"))})
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if err := u.checkForm(r); err != nil {
		u.fail(w, r, http.StatusForbidden, err)
		return
	}
	if !u.writable() {
		u.fail(w, r, http.StatusForbidden, fmt.Errorf("this dashboard is read-only: %s", u.readOnlyReason()))
		return
	}
	if !u.logins.allow(u.o.Now()) {
		u.fail(w, r, http.StatusTooManyRequests, fmt.Errorf("too many wrong tokens: wait a minute and try again"))
		return
	}
	given := r.PostFormValue("token")
	if subtle.ConstantTimeCompare([]byte(given), []byte(u.o.Token)) != 1 {
		u.logins.failed(u.o.Now())
		w = withStatus(w, http.StatusUnauthorized)
		u.render(w, r, "login", "Sign in", map[string]any{"Next": safeNext(u.o.Prefix, r.PostFormValue("next")), "Error": "That is not the registry token (BRIDGE_REGISTRY_TOKEN)."})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: u.session(), Path: u.o.Prefix + "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 12 * 3600})
	http.Redirect(w, r, safeNext(u.o.Prefix, r.PostFormValue("next")), http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if err := u.checkForm(r); err != nil {
		u.fail(w, r, http.StatusForbidden, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: u.o.Prefix + "/", MaxAge: -1})
	http.Redirect(w, r, u.o.Prefix+"/", http.StatusSeeOther)
}

// loginLimiter refuses sign-ins after maxFailures wrong tokens within a
// minute, so the token cannot be guessed at speed.
type loginLimiter struct {
	mu       sync.Mutex
	failures []time.Time
}

const maxFailures = 10

func (l *loginLimiter) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	keep := l.failures[:0]
	for _, t := range l.failures {
		if now.Sub(t) < time.Minute {
			keep = append(keep, t)
		}
	}
	l.failures = keep
	return len(l.failures) < maxFailures
}

func (l *loginLimiter) failed(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, now)
}

// safeNext keeps redirects inside the dashboard.
func safeNext(prefix, next string) string {
	if strings.HasPrefix(next, prefix+"/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return prefix + "/"
}

func (u *UI) readOnlyReason() string {
	switch {
	case u.o.ReadOnly != "":
		return u.o.ReadOnly
	case u.o.Token == "":
		return "no registry token is configured (set BRIDGE_REGISTRY_TOKEN to enable actions)"
	}
	return "no registry to write to"
}

// action is a write the user asked for.
type action struct {
	Kind    string // promote, archive, alias, approve
	Model   string
	Version int
	Stage   string // promote
	Alias   string // alias
	Archive bool   // promote: archive the versions in the target stage
}

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$`)

func parseAction(r *http.Request) (action, error) {
	a := action{Kind: r.PostFormValue("action"), Model: r.PostFormValue("model"), Stage: r.PostFormValue("stage"), Alias: strings.TrimSpace(r.PostFormValue("alias")), Archive: r.PostFormValue("archive_existing") == "on"}
	v, err := strconv.Atoi(r.PostFormValue("version"))
	if err != nil || v <= 0 {
		return a, fmt.Errorf("version %q: want a version number", r.PostFormValue("version"))
	}
	a.Version = v
	if a.Model == "" {
		return a, fmt.Errorf("no model named")
	}
	switch a.Kind {
	case "promote":
		if a.Stage != model.StageStaging && a.Stage != model.StageProduction {
			return a, fmt.Errorf("stage %q: want Staging or Production", a.Stage)
		}
	case "archive", "approve":
	case "alias":
		if !aliasRE.MatchString(a.Alias) || strings.EqualFold(a.Alias, "latest") || strings.HasPrefix(strings.ToLower(a.Alias), "v") && isDigits(a.Alias[1:]) {
			return a, fmt.Errorf("alias %q: want letters, digits, '_' or '-', not 'latest' or v<number>", a.Alias)
		}
	default:
		return a, fmt.Errorf("action %q: want promote, archive, alias or approve", a.Kind)
	}
	return a, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Summary says in words what the action does.
func (a action) Summary() string {
	switch a.Kind {
	case "promote":
		s := fmt.Sprintf("Move %s version %d to %s", a.Model, a.Version, a.Stage)
		if a.Archive {
			s += ", archiving the versions now in " + a.Stage
		}
		return s + "."
	case "archive":
		return fmt.Sprintf("Archive %s version %d: its stage endpoints stop serving it.", a.Model, a.Version)
	case "alias":
		return fmt.Sprintf("Point alias %q of %s at version %d.", a.Alias, a.Model, a.Version)
	case "approve":
		return fmt.Sprintf("Approve %s version %d: its approval status becomes %s.", a.Model, a.Version, approvedValue)
	}
	return ""
}

func (u *UI) authorizeWrite(w http.ResponseWriter, r *http.Request) (action, bool) {
	if err := u.checkForm(r); err != nil {
		u.fail(w, r, http.StatusForbidden, err)
		return action{}, false
	}
	if !u.writable() {
		u.fail(w, r, http.StatusForbidden, fmt.Errorf("this dashboard is read-only: %s", u.readOnlyReason()))
		return action{}, false
	}
	if !u.signedIn(r) {
		u.fail(w, r, http.StatusUnauthorized, fmt.Errorf("sign in with the registry token first"))
		return action{}, false
	}
	a, err := parseAction(r)
	if err != nil {
		u.fail(w, r, http.StatusBadRequest, err)
		return action{}, false
	}
	if !u.offers(a.Kind) {
		u.fail(w, r, http.StatusBadRequest, fmt.Errorf("this registry does not offer %s from the dashboard", a.Kind))
		return action{}, false
	}
	return a, true
}

func (u *UI) confirmAction(w http.ResponseWriter, r *http.Request) {
	a, ok := u.authorizeWrite(w, r)
	if !ok {
		return
	}
	u.render(w, r, "confirm", "Confirm", map[string]any{"Action": a, "Back": u.o.Prefix + "/models/" + url.PathEscape(a.Model)})
}

func (u *UI) applyAction(w http.ResponseWriter, r *http.Request) {
	a, ok := u.authorizeWrite(w, r)
	if !ok {
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		u.fail(w, r, http.StatusBadRequest, fmt.Errorf("the action was not confirmed"))
		return
	}
	ctx := r.Context()
	var err error
	switch a.Kind {
	case "promote":
		err = u.o.Actions.TransitionStage(ctx, a.Model, a.Version, a.Stage, a.Archive)
	case "archive":
		err = u.o.Actions.TransitionStage(ctx, a.Model, a.Version, model.StageArchived, false)
	case "alias":
		err = u.o.Actions.SetAlias(ctx, a.Model, a.Alias, a.Version)
	case "approve":
		if ap, ok := u.o.Actions.(Approver); ok {
			err = ap.Approve(ctx, a.Model, a.Version)
		} else {
			err = u.o.Actions.SetVersionTag(ctx, a.Model, a.Version, ApprovalTag, approvedValue)
		}
	}
	if err != nil {
		u.fail(w, r, http.StatusBadGateway, fmt.Errorf("%s: %w", strings.TrimSuffix(a.Summary(), "."), err))
		return
	}
	// The next page shows the registry after the write.
	if c, ok := u.o.Registry.(*cachedRegistry); ok {
		c.c.reset()
	}
	u.o.Log.Info("dashboard action", "action", a.Kind, "model", a.Model, "version", a.Version, "stage", a.Stage, "alias", a.Alias)
	http.Redirect(w, r, u.o.Prefix+"/models/"+url.PathEscape(a.Model)+"?done="+url.QueryEscape(a.Summary()), http.StatusSeeOther)
}
