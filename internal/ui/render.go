package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

var pageNames = []string{"overview", "endpoint", "model", "monitoring", "schedule", "pipelines", "login", "confirm", "error"}

func parseTemplates(prefix string) map[string]*template.Template {
	funcs := template.FuncMap{
		"prefix": func() string { return prefix },
		"path":   url.PathEscape,
		"query":  url.QueryEscape,
		"ago":    ago,
		"ts":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"num":    num,
		"pct":    func(v float64) string { return fmtFloat(100*v, 2) + " %" },
		"ms":     ms,
		"json":   jsonAttr,
		"stateClass": func(s string) string {
			switch strings.ToUpper(s) {
			case "READY", "DEPLOYED", "COMPLETED", "SUCCEEDED", "EXECUTING":
				return "ok"
			case "FAILED", "COMPLETEDWITHVIOLATIONS", "STOPPED":
				return "bad"
			case "":
				return "idle" // e.g. a pipeline step that did not run
			}
			return "warn"
		},
		"add": func(a, b int) int { return a + b },
		"approvalClass": func(s string) string {
			switch s {
			case approvedValue:
				return "ok"
			case "Rejected":
				return "bad"
			}
			return "warn"
		},
		"approvalText": func(s string) string {
			switch s {
			case approvedValue:
				return "approved"
			case "Rejected":
				return "rejected"
			case "PendingManualApproval":
				return "pending approval"
			}
			return s
		},
	}
	out := map[string]*template.Template{}
	for _, n := range pageNames {
		out[n] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
	}
	return out
}

// page is what the layout renders around a page's content.
type page struct {
	Title    string
	Nav      string
	CSRF     string
	SignedIn bool
	Writable bool
	// Offers lists the action kinds the dashboard offers (signed in).
	Offers   map[string]bool
	ReadOnly string
	Banners  []string
	Refresh  int64 // ms; 0: no live refresh
	Here     string
	Data     any
}

// banners collects the problems of one request's data sources.
type banners struct {
	mu   sync.Mutex
	list []string
}

func (b *banners) add(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.list = append(b.list, fmt.Sprintf(format, args...))
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes a page; a live-refresh request (header X-Bridge-Live)
// gets the content only.
func (u *UI) render(w http.ResponseWriter, r *http.Request, name, title string, data any, bs ...*banners) {
	p := page{Title: title, Nav: name, CSRF: u.csrfToken(w, r), SignedIn: u.signedIn(r), Writable: u.writable(), Here: r.URL.RequestURI(), Data: data}
	if !p.Writable {
		p.ReadOnly = u.readOnlyReason()
	} else if p.SignedIn {
		p.Offers = map[string]bool{}
		for _, k := range []string{"promote", "archive", "alias", "approve"} {
			p.Offers[k] = u.offers(k)
		}
	}
	for _, b := range bs {
		if b != nil {
			p.Banners = append(p.Banners, b.list...)
		}
	}
	switch name {
	case "login", "confirm", "error":
	default:
		p.Refresh = u.o.Refresh.Milliseconds()
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	tmpl := "layout.html"
	if r.Header.Get("X-Bridge-Live") != "" {
		tmpl = "live"
	}
	if err := u.pages[name].ExecuteTemplate(buf, tmpl, p); err != nil {
		u.o.Log.Error("render dashboard page", "page", name, "err", err)
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

// fail renders an error page with status code.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, code int, err error) {
	w = withStatus(w, code)
	u.render(w, r, "error", http.StatusText(code), map[string]any{"Code": code, "Error": err.Error()})
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + " s ago"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h ago"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days ago"
}

func fmtFloat(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func ms(seconds float64) string {
	if math.IsNaN(seconds) {
		return "–"
	}
	return num(seconds*1000) + " ms"
}

// jsonAttr encodes v for a data-* attribute (html/template escapes it).
func jsonAttr(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// statusWriter answers with code instead of 200 once the page is written,
// so headers set while rendering still go out.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func withStatus(w http.ResponseWriter, code int) http.ResponseWriter {
	return &statusWriter{ResponseWriter: w, code: code}
}

func (s *statusWriter) WriteHeader(code int) {
	s.wrote = true
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(s.code)
	}
	return s.ResponseWriter.Write(b)
}
