// Package mlflowapi serves Bridge's embedded registry (registry/store) over
// MLflow's REST API, so MLflow clients, curl scripts and CI jobs can use it:
// the model registry under /api/2.0/mlflow/ and the artifact store under
// /api/2.0/mlflow-artifacts/artifacts (both also under /ajax-api/2.0/, as
// MLflow's UI calls them). Request and response shapes, methods, status
// codes and error codes follow the MLflow REST API reference.
package mlflowapi

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
	"github.com/bridgeops/bridge/internal/registry/store"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes     = 1 << 20  // 1 MiB per JSON request
	DefaultMaxArtifactBytes = 10 << 30 // 10 GiB per uploaded artifact file
)

// Search limits, as in MLflow.
const (
	maxModelResults          = 1000
	defaultModelResults      = 100
	maxVersionResults        = 200000
	defaultVersionResults    = 10000
	apiPrefix, ajaxPrefix    = "/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"
	artifactsPath, ajaxArtif = "/api/2.0/mlflow-artifacts/artifacts", "/ajax-api/2.0/mlflow-artifacts/artifacts"
)

// Options configure the server.
type Options struct {
	// ArtifactRoot is the artifact store directory; default the store's
	// (<home>/artifacts).
	ArtifactRoot string
	// Token, when set, is required on every request except /health, as
	// "Authorization: Bearer <token>" or as the password of HTTP Basic auth.
	Token string
	// MaxBodyBytes limits JSON request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxArtifactBytes limits one uploaded artifact file (default 10 GiB).
	MaxArtifactBytes int64
	// Logger receives server errors; default slog.Default().
	Logger *slog.Logger
}

type server struct {
	st     *store.Store
	opt    Options
	routes map[string]map[string]handlerFunc // path → method → handler
	log    *slog.Logger
}

type handlerFunc func(r *http.Request, p params) (any, error)

// New returns the HTTP handler of the registry API backed by st.
func New(st *store.Store, opt Options) http.Handler {
	if opt.ArtifactRoot == "" {
		opt.ArtifactRoot = st.ArtifactRoot()
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.MaxArtifactBytes <= 0 {
		opt.MaxArtifactBytes = DefaultMaxArtifactBytes
	}
	s := &server{st: st, opt: opt, log: opt.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.routes = map[string]map[string]handlerFunc{
		"registered-models/create":              {"POST": s.createModel},
		"registered-models/get":                 {"GET": s.getModel},
		"registered-models/rename":              {"POST": s.renameModel},
		"registered-models/update":              {"PATCH": s.updateModel},
		"registered-models/delete":              {"DELETE": s.deleteModel},
		"registered-models/search":              {"GET": s.searchModels},
		"registered-models/get-latest-versions": {"POST": s.latestVersions, "GET": s.latestVersions},
		"registered-models/set-tag":             {"POST": s.setModelTag},
		"registered-models/delete-tag":          {"DELETE": s.deleteModelTag},
		"registered-models/alias":               {"POST": s.setAlias, "DELETE": s.deleteAlias, "GET": s.versionByAlias},
		"model-versions/create":                 {"POST": s.createVersion},
		"model-versions/get":                    {"GET": s.getVersion},
		"model-versions/update":                 {"PATCH": s.updateVersion},
		"model-versions/delete":                 {"DELETE": s.deleteVersion},
		"model-versions/search":                 {"GET": s.searchVersions},
		"model-versions/transition-stage":       {"POST": s.transition},
		"model-versions/set-tag":                {"POST": s.setVersionTag},
		"model-versions/delete-tag":             {"DELETE": s.deleteVersionTag},
		"model-versions/get-download-uri":       {"GET": s.downloadURI},
	}
	return s
}

// apiError is an error with an explicit HTTP status.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.log.Debug("registry request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	}()
	p := r.URL.Path
	if p == "/health" {
		sw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		sw.Write([]byte("OK"))
		return
	}
	if !s.authorized(r) {
		sw.Header().Set("WWW-Authenticate", `Basic realm="mlflow"`)
		s.writeError(sw, r, &apiError{status: http.StatusUnauthorized, code: mlflowerr.Unauthenticated,
			msg: "You are not authenticated. Send 'Authorization: Bearer <token>' (MLFLOW_TRACKING_TOKEN) or HTTP Basic auth with the token as password."})
		return
	}
	switch {
	case p == artifactsPath || p == ajaxArtif || strings.HasPrefix(p, artifactsPath+"/") || strings.HasPrefix(p, ajaxArtif+"/"):
		s.serveArtifacts(sw, r)
		return
	case strings.HasPrefix(p, apiPrefix):
		p = strings.TrimPrefix(p, apiPrefix)
	case strings.HasPrefix(p, ajaxPrefix):
		p = strings.TrimPrefix(p, ajaxPrefix)
	default:
		s.notFound(sw, r)
		return
	}
	methods, ok := s.routes[p]
	if !ok {
		s.notFound(sw, r)
		return
	}
	h, ok := methods[r.Method]
	if !ok {
		var allow []string
		for m := range methods {
			allow = append(allow, m)
		}
		sw.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(sw, r, &apiError{status: http.StatusMethodNotAllowed, code: "BAD_REQUEST",
			msg: fmt.Sprintf("Method %s is not allowed for %s; use %s.", r.Method, r.URL.Path, strings.Join(allow, " or "))})
		return
	}
	params, err := readParams(sw, r, s.opt.MaxBodyBytes)
	if err != nil {
		s.writeError(sw, r, err)
		return
	}
	out, err := h(r, params)
	if err != nil {
		s.writeError(sw, r, err)
		return
	}
	writeJSON(sw, http.StatusOK, out)
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, &apiError{status: http.StatusNotFound, code: "ENDPOINT_NOT_FOUND",
		msg: fmt.Sprintf("No API endpoint %s %s. Bridge serves MLflow's model registry and artifact APIs; experiment tracking is not served.", r.Method, r.URL.Path)})
}

func (s *server) authorized(r *http.Request) bool {
	if s.opt.Token == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		return subtle.ConstantTimeCompare([]byte(cred), []byte(s.opt.Token)) == 1
	case "basic":
		b, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return false
		}
		_, pw, ok := strings.Cut(string(b), ":")
		return ok && subtle.ConstantTimeCompare([]byte(pw), []byte(s.opt.Token)) == 1
	}
	return false
}

// writeError answers with MLflow's error body {"error_code", "message"}.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var se *store.Error
	status, body := http.StatusInternalServerError, mlflow.ErrorResponse{ErrorCode: "INTERNAL_ERROR", Message: err.Error()}
	switch {
	case errors.As(err, &ae):
		status, body = ae.status, mlflow.ErrorResponse{ErrorCode: ae.code, Message: ae.msg}
	case errors.As(err, &se):
		body = mlflow.ErrorResponse{ErrorCode: se.Code, Message: se.Message}
		switch se.Code {
		case mlflowerr.NotFound:
			status = http.StatusNotFound
		default:
			status = http.StatusBadRequest
		}
	default:
		if r.Context().Err() != nil {
			status, body.ErrorCode = 499, "CANCELLED"
		} else {
			s.log.Error("registry request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error_code":"INTERNAL_ERROR","message":"cannot encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
