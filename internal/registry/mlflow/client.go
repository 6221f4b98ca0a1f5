// Package mlflow is a client for the MLflow REST API: the model registry
// (/api/2.0/mlflow/registered-models, /model-versions), runs/get, and the
// artifact proxy (/api/2.0/mlflow-artifacts/artifacts). It works against
// any MLflow tracking server and against Bridge's own (registry/mlflowapi).
//
// *Client implements registry.Registry, so the reconcile loop can follow an
// external MLflow registry. The wire types in this package are shared with
// Bridge's server.
package mlflow

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

// API path prefixes.
const (
	APIPrefix       = "/api/2.0/mlflow/"
	ArtifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts"
)

// Error is an error answer of an MLflow server.
type Error struct {
	StatusCode int    // HTTP status
	Code       string // MLflow error_code, "" when the body was not an MLflow error
	Message    string
	Method     string
	Path       string
}

func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	msg := fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.StatusCode, code, e.Message)
	if e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden {
		msg += " (set BRIDGE_REGISTRY_TOKEN or MLFLOW_TRACKING_TOKEN to the registry's token)"
	}
	return msg
}

// MLflowCode returns e.Code; it makes *Error a mlflowerr.Coded.
func (e *Error) MLflowCode() string { return e.Code }

// ErrorCode returns the MLflow error code of err ("" if it has none); see
// package mlflowerr for the codes.
func ErrorCode(err error) string { return mlflowerr.Code(err) }

// IsNotFound reports whether err is RESOURCE_DOES_NOT_EXIST.
func IsNotFound(err error) bool { return mlflowerr.IsNotFound(err) }

// IsAlreadyExists reports whether err is RESOURCE_ALREADY_EXISTS.
func IsAlreadyExists(err error) bool { return mlflowerr.IsAlreadyExists(err) }

// IsInvalid reports whether err is INVALID_PARAMETER_VALUE.
func IsInvalid(err error) bool { return mlflowerr.IsInvalid(err) }

// Client talks to one MLflow server. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	baseErr error // the base URL was unusable
	token   string
	user    *url.Userinfo
	hc      *http.Client
	// PageSize is the max_results Versions asks for per page (default 1000).
	PageSize int
}

var _ registry.Registry = (*Client)(nil)

// NewClient returns a client of the MLflow server at baseURL
// (http://host:port, optionally with a path prefix). A non-empty token is
// sent as "Authorization: Bearer <token>"; user:password in baseURL is sent
// as HTTP Basic instead. hc nil means a client with a 60 s timeout.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	var baseErr error
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		baseErr = fmt.Errorf("registry URL %q: want http://HOST:PORT or https://HOST:PORT (set --registry or BRIDGE_MLFLOW_URI)", baseURL)
		u = &url.URL{Scheme: "http", Host: "invalid"}
	}
	c := &Client{base: u, baseErr: baseErr, token: token, hc: hc, PageSize: 1000}
	if u.User != nil {
		c.user = u.User
		cp := *u
		cp.User = nil
		c.base = &cp
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 60 * time.Second}
	}
	return c
}

// BaseURL returns the server URL without credentials.
func (c *Client) BaseURL() string { return c.base.String() }

// endpoint joins the base URL, an already escaped path and a query.
func (c *Client) endpoint(escapedPath string, q url.Values) string {
	u := *c.base
	u.RawQuery, u.Fragment = "", ""
	s := strings.TrimRight(u.String(), "/") + escapedPath
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

func (c *Client) authorize(req *http.Request) {
	switch {
	case c.token != "":
		req.Header.Set("Authorization", "Bearer "+c.token)
	case c.user != nil:
		pw, _ := c.user.Password()
		req.SetBasicAuth(c.user.Username(), pw)
	}
}

// call sends one API request. GET requests carry params in the query
// string; others carry body as JSON. The answer is decoded into out.
func (c *Client) call(ctx context.Context, method, api string, query url.Values, body, out any) error {
	if c.baseErr != nil {
		return c.baseErr
	}
	path := APIPrefix + api
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
	}
	var resp *http.Response
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.endpoint(path, query), rd)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		c.authorize(req)
		resp, err = c.hc.Do(req)
		retryable := method == http.MethodGet && attempt < 2 &&
			(err != nil && ctx.Err() == nil || err == nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 502 && resp.StatusCode <= 504))
		if !retryable {
			if err != nil {
				return fmt.Errorf("%s %s: %w (is the registry at %s running?)", method, path, err, c.BaseURL())
			}
			break
		}
		if err == nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		case <-time.After(time.Duration(200*(attempt+1)) * time.Millisecond):
		}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return readError(resp, method, path)
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil && err != io.EOF {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

func readError(resp *http.Response, method, path string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{StatusCode: resp.StatusCode, Method: method, Path: path}
	var er ErrorResponse
	if json.Unmarshal(b, &er) == nil && (er.ErrorCode != "" || er.Message != "") {
		e.Code, e.Message = er.ErrorCode, er.Message
	} else {
		e.Message = strings.TrimSpace(string(b))
		if len(e.Message) > 300 {
			e.Message = e.Message[:300] + "..."
		}
	}
	return e
}

func params(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

// CreateRegisteredModel creates a registered model.
func (c *Client) CreateRegisteredModel(ctx context.Context, name, description string, tags map[string]string) (RegisteredModel, error) {
	var out RegisteredModelResponse
	err := c.call(ctx, http.MethodPost, "registered-models/create", nil,
		CreateRegisteredModelRequest{Name: name, Description: description, Tags: tagList(tags)}, &out)
	return out.RegisteredModel, err
}

// GetRegisteredModel returns a registered model with its latest versions,
// tags and aliases.
func (c *Client) GetRegisteredModel(ctx context.Context, name string) (RegisteredModel, error) {
	var out RegisteredModelResponse
	err := c.call(ctx, http.MethodGet, "registered-models/get", params("name", name), nil, &out)
	return out.RegisteredModel, err
}

// RenameRegisteredModel renames a model.
func (c *Client) RenameRegisteredModel(ctx context.Context, name, newName string) (RegisteredModel, error) {
	var out RegisteredModelResponse
	err := c.call(ctx, http.MethodPost, "registered-models/rename", nil, RenameRegisteredModelRequest{Name: name, NewName: newName}, &out)
	return out.RegisteredModel, err
}

// UpdateRegisteredModel sets a model's description.
func (c *Client) UpdateRegisteredModel(ctx context.Context, name, description string) (RegisteredModel, error) {
	var out RegisteredModelResponse
	err := c.call(ctx, http.MethodPatch, "registered-models/update", nil, UpdateRegisteredModelRequest{Name: name, Description: description}, &out)
	return out.RegisteredModel, err
}

// DeleteRegisteredModel deletes a model and all its versions.
func (c *Client) DeleteRegisteredModel(ctx context.Context, name string) error {
	return c.call(ctx, http.MethodDelete, "registered-models/delete", nil, NameRequest{Name: name}, nil)
}

// SearchOptions selects and pages search results.
type SearchOptions struct {
	Filter     string   // e.g. "name = 'iris'", "name LIKE 'ir%'", "run_id = '...'"
	MaxResults int      // 0: the server's default
	OrderBy    []string // e.g. "name DESC", "last_updated_timestamp"
	PageToken  string
}

func (o SearchOptions) query() url.Values {
	q := params("filter", o.Filter, "page_token", o.PageToken)
	if o.MaxResults > 0 {
		q.Set("max_results", strconv.Itoa(o.MaxResults))
	}
	for _, ob := range o.OrderBy {
		q.Add("order_by", ob)
	}
	return q
}

// SearchRegisteredModels returns one page of models and the token of the
// next page ("" on the last page).
func (c *Client) SearchRegisteredModels(ctx context.Context, o SearchOptions) ([]RegisteredModel, string, error) {
	var out SearchRegisteredModelsResponse
	err := c.call(ctx, http.MethodGet, "registered-models/search", o.query(), nil, &out)
	return out.RegisteredModels, out.NextPageToken, err
}

// AllRegisteredModels follows every page of a model search.
func (c *Client) AllRegisteredModels(ctx context.Context, o SearchOptions) ([]RegisteredModel, error) {
	var all []RegisteredModel
	for {
		ms, next, err := c.SearchRegisteredModels(ctx, o)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
		if next == "" {
			return all, nil
		}
		o.PageToken = next
	}
}

// GetLatestVersions returns the newest version of each stage (of every
// stage when none are given).
func (c *Client) GetLatestVersions(ctx context.Context, name string, stages ...string) ([]ModelVersion, error) {
	var out ModelVersionsResponse
	err := c.call(ctx, http.MethodPost, "registered-models/get-latest-versions", nil, GetLatestVersionsRequest{Name: name, Stages: stages}, &out)
	return out.ModelVersions, err
}

// SetRegisteredModelTag sets a tag on a model.
func (c *Client) SetRegisteredModelTag(ctx context.Context, name, key, value string) error {
	return c.call(ctx, http.MethodPost, "registered-models/set-tag", nil, SetRegisteredModelTagRequest{Name: name, Key: key, Value: value}, nil)
}

// DeleteRegisteredModelTag removes a tag from a model.
func (c *Client) DeleteRegisteredModelTag(ctx context.Context, name, key string) error {
	return c.call(ctx, http.MethodDelete, "registered-models/delete-tag", nil, DeleteRegisteredModelTagRequest{Name: name, Key: key}, nil)
}

// SetAlias points alias at a version.
func (c *Client) SetAlias(ctx context.Context, name, alias string, version int) error {
	return c.call(ctx, http.MethodPost, "registered-models/alias", nil, SetAliasRequest{Name: name, Alias: alias, Version: strconv.Itoa(version)}, nil)
}

// DeleteAlias removes an alias.
func (c *Client) DeleteAlias(ctx context.Context, name, alias string) error {
	return c.call(ctx, http.MethodDelete, "registered-models/alias", nil, DeleteAliasRequest{Name: name, Alias: alias}, nil)
}

// GetVersionByAlias returns the version an alias points to.
func (c *Client) GetVersionByAlias(ctx context.Context, name, alias string) (ModelVersion, error) {
	var out ModelVersionResponse
	err := c.call(ctx, http.MethodGet, "registered-models/alias", params("name", name, "alias", alias), nil, &out)
	return out.ModelVersion, err
}

// VersionSpec describes a new model version.
type VersionSpec struct {
	Name        string
	Source      string
	RunID       string
	RunLink     string
	Description string
	Tags        map[string]string
}

// CreateModelVersion registers a new version; the server assigns its number.
func (c *Client) CreateModelVersion(ctx context.Context, s VersionSpec) (ModelVersion, error) {
	var out ModelVersionResponse
	err := c.call(ctx, http.MethodPost, "model-versions/create", nil, CreateModelVersionRequest{
		Name: s.Name, Source: s.Source, RunID: s.RunID, RunLink: s.RunLink, Description: s.Description, Tags: tagList(s.Tags),
	}, &out)
	return out.ModelVersion, err
}

// GetModelVersion returns one version.
func (c *Client) GetModelVersion(ctx context.Context, name string, version int) (ModelVersion, error) {
	var out ModelVersionResponse
	err := c.call(ctx, http.MethodGet, "model-versions/get", params("name", name, "version", strconv.Itoa(version)), nil, &out)
	return out.ModelVersion, err
}

// UpdateModelVersion sets a version's description.
func (c *Client) UpdateModelVersion(ctx context.Context, name string, version int, description string) (ModelVersion, error) {
	var out ModelVersionResponse
	err := c.call(ctx, http.MethodPatch, "model-versions/update", nil,
		UpdateModelVersionRequest{Name: name, Version: strconv.Itoa(version), Description: description}, &out)
	return out.ModelVersion, err
}

// DeleteModelVersion deletes a version.
func (c *Client) DeleteModelVersion(ctx context.Context, name string, version int) error {
	return c.call(ctx, http.MethodDelete, "model-versions/delete", nil, VersionRequest{Name: name, Version: strconv.Itoa(version)}, nil)
}

// SearchModelVersions returns one page of versions and the next page token.
func (c *Client) SearchModelVersions(ctx context.Context, o SearchOptions) ([]ModelVersion, string, error) {
	var out ModelVersionsResponse
	err := c.call(ctx, http.MethodGet, "model-versions/search", o.query(), nil, &out)
	return out.ModelVersions, out.NextPageToken, err
}

// AllModelVersions follows every page of a version search.
func (c *Client) AllModelVersions(ctx context.Context, o SearchOptions) ([]ModelVersion, error) {
	var all []ModelVersion
	for {
		vs, next, err := c.SearchModelVersions(ctx, o)
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
		if next == "" {
			return all, nil
		}
		o.PageToken = next
	}
}

// TransitionStage moves a version to a stage (None, Staging, Production,
// Archived); archiveExisting archives the other versions in that stage.
func (c *Client) TransitionStage(ctx context.Context, name string, version int, stage string, archiveExisting bool) (ModelVersion, error) {
	var out ModelVersionResponse
	err := c.call(ctx, http.MethodPost, "model-versions/transition-stage", nil, TransitionStageRequest{
		Name: name, Version: strconv.Itoa(version), Stage: stage, ArchiveExistingVersions: archiveExisting,
	}, &out)
	return out.ModelVersion, err
}

// SetModelVersionTag sets a tag on a version.
func (c *Client) SetModelVersionTag(ctx context.Context, name string, version int, key, value string) error {
	return c.call(ctx, http.MethodPost, "model-versions/set-tag", nil,
		SetModelVersionTagRequest{Name: name, Version: strconv.Itoa(version), Key: key, Value: value}, nil)
}

// DeleteModelVersionTag removes a tag from a version.
func (c *Client) DeleteModelVersionTag(ctx context.Context, name string, version int, key string) error {
	return c.call(ctx, http.MethodDelete, "model-versions/delete-tag", nil,
		DeleteModelVersionTagRequest{Name: name, Version: strconv.Itoa(version), Key: key}, nil)
}

// GetDownloadURI returns where a version's artifacts are stored, as the
// server reports it (mlflow-artifacts:/..., s3://..., file://...).
func (c *Client) GetDownloadURI(ctx context.Context, name string, version int) (string, error) {
	var out DownloadURIResponse
	err := c.call(ctx, http.MethodGet, "model-versions/get-download-uri", params("name", name, "version", strconv.Itoa(version)), nil, &out)
	return out.ArtifactURI, err
}

// GetRun returns a run's info, whose ArtifactURI resolves runs:/RUN_ID/PATH
// sources. Bridge's own server does not track runs; MLflow servers do.
func (c *Client) GetRun(ctx context.Context, runID string) (Run, error) {
	var out GetRunResponse
	err := c.call(ctx, http.MethodGet, "runs/get", params("run_id", runID), nil, &out)
	return out.Run, err
}

// Versions implements registry.Registry: every version of every model, by
// pages of PageSize through model-versions/search.
func (c *Client) Versions(ctx context.Context) ([]model.ModelVersion, error) {
	n := c.PageSize
	if n <= 0 {
		n = 1000
	}
	vs, err := c.AllModelVersions(ctx, SearchOptions{MaxResults: n})
	if err != nil {
		return nil, fmt.Errorf("list registry versions: %w", err)
	}
	out := make([]model.ModelVersion, 0, len(vs))
	for _, v := range vs {
		mv, err := v.Model()
		if err != nil {
			return nil, err
		}
		out = append(out, mv)
	}
	return out, nil
}

// Model converts a wire version to Bridge's domain type.
func (v ModelVersion) Model() (model.ModelVersion, error) {
	n, err := model.ParseVersion(v.Version)
	if err != nil {
		return model.ModelVersion{}, fmt.Errorf("model %s: %w", v.Name, err)
	}
	stage := v.CurrentStage
	if stage == "" {
		stage = model.StageNone
	}
	mv := model.ModelVersion{
		Name: v.Name, Version: n, Source: v.Source, RunID: v.RunID, Stage: stage, Description: v.Description,
		Created: time.UnixMilli(int64(v.CreationTimestamp)), Updated: time.UnixMilli(int64(v.LastUpdatedTimestamp)),
	}
	if len(v.Aliases) > 0 {
		mv.Aliases = append([]string(nil), v.Aliases...)
	}
	if len(v.Tags) > 0 {
		mv.Tags = v.TagMap()
	}
	return mv, nil
}

// DownloadURI implements registry.Registry.
func (c *Client) DownloadURI(ctx context.Context, ref model.VersionRef) (string, error) {
	u, err := c.GetDownloadURI(ctx, ref.Model, ref.Version)
	if err != nil {
		return "", fmt.Errorf("download URI of %s: %w", ref, err)
	}
	return u, nil
}

// SetVersionTag implements registry.Registry.
func (c *Client) SetVersionTag(ctx context.Context, ref model.VersionRef, key, value string) error {
	if err := c.SetModelVersionTag(ctx, ref.Model, ref.Version, key, value); err != nil {
		return fmt.Errorf("tag %s %s: %w", ref, key, err)
	}
	return nil
}

// DeleteVersionTag implements registry.Registry. A missing tag, or a
// version that is gone (and its tags with it), is not an error.
func (c *Client) DeleteVersionTag(ctx context.Context, ref model.VersionRef, key string) error {
	if err := c.DeleteModelVersionTag(ctx, ref.Model, ref.Version, key); err != nil && !IsNotFound(err) {
		return fmt.Errorf("untag %s %s: %w", ref, key, err)
	}
	return nil
}

func tagList(m map[string]string) []Tag {
	if len(m) == 0 {
		return nil
	}
	out := make([]Tag, 0, len(m))
	for k, v := range m {
		out = append(out, Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
