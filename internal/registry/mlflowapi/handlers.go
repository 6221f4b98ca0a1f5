package mlflowapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"

	"github.com/bridgeops/bridge/internal/registry/mlflow"
	"github.com/bridgeops/bridge/internal/registry/store"
)

type empty struct{}

func wireVersion(v store.ModelVersion) mlflow.ModelVersion {
	out := mlflow.ModelVersion{
		Name: v.Name, Version: strconv.Itoa(v.Version), CurrentStage: v.Stage, Description: v.Description,
		Source: v.Source, RunID: v.RunID, Status: v.Status, RunLink: v.RunLink, Aliases: v.Aliases,
		CreationTimestamp: mlflow.Int64(v.Created.UnixMilli()), LastUpdatedTimestamp: mlflow.Int64(v.Updated.UnixMilli()),
	}
	if out.Status == "" {
		out.Status = "READY"
	}
	out.Tags = wireTags(v.Tags)
	return out
}

func wireTags(m map[string]string) []mlflow.Tag {
	if len(m) == 0 {
		return nil
	}
	out := make([]mlflow.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, mlflow.Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func wireModel(m store.RegisteredModel) mlflow.RegisteredModel {
	out := mlflow.RegisteredModel{
		Name: m.Name, Description: m.Description, Tags: wireTags(m.Tags),
		CreationTimestamp: mlflow.Int64(m.Created.UnixMilli()), LastUpdatedTimestamp: mlflow.Int64(m.Updated.UnixMilli()),
	}
	for _, v := range m.LatestVersions {
		out.LatestVersions = append(out.LatestVersions, wireVersion(v))
	}
	for a, v := range m.Aliases {
		out.Aliases = append(out.Aliases, mlflow.Alias{Alias: a, Version: strconv.Itoa(v)})
	}
	sort.Slice(out.Aliases, func(i, j int) bool { return out.Aliases[i].Alias < out.Aliases[j].Alias })
	return out
}

// modelReply answers with the registered model m, or with err.
func modelReply(m store.RegisteredModel, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return mlflow.RegisteredModelResponse{RegisteredModel: wireModel(m)}, nil
}

// versionReply answers with the model version v, or with err.
func versionReply(v store.ModelVersion, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return mlflow.ModelVersionResponse{ModelVersion: wireVersion(v)}, nil
}

// done answers with an empty object, or with err.
func done(err error) (any, error) { return empty{}, err }

func (s *server) createModel(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, desc, tags := in.required("name"), in.str("description"), in.tags("tags")
	if in.err != nil {
		return nil, in.err
	}
	return modelReply(s.st.CreateRegisteredModel(r.Context(), name, desc, tags))
}

func (s *server) getModel(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name := in.required("name")
	if in.err != nil {
		return nil, in.err
	}
	return modelReply(s.st.GetRegisteredModel(r.Context(), name))
}

func (s *server) renameModel(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, newName := in.required("name"), in.required("new_name")
	if in.err != nil {
		return nil, in.err
	}
	return modelReply(s.st.RenameRegisteredModel(r.Context(), name, newName))
}

func (s *server) updateModel(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, desc := in.required("name"), in.str("description")
	if in.err != nil {
		return nil, in.err
	}
	return modelReply(s.st.UpdateRegisteredModel(r.Context(), name, desc))
}

func (s *server) deleteModel(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name := in.required("name")
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.DeleteRegisteredModel(r.Context(), name))
}

// search reads filter, max_results, order_by and page_token.
func searchParams(p params, def, max int) (store.Search, error) {
	in := reader{p: p}
	q := store.Search{Filter: in.str("filter"), OrderBy: in.list("order_by"), Limit: def}
	if in.err != nil {
		return q, in.err
	}
	n, ok, err := p.int64("max_results")
	if err != nil {
		return q, err
	}
	if ok {
		if n < 1 {
			return q, invalid(fmt.Sprintf("Invalid value for request parameter max_results. It must be a positive integer, but got value %d", n))
		}
		if n > int64(max) {
			return q, invalid(fmt.Sprintf("Invalid value for request parameter max_results. It must be at most %d, but got value %d", max, n))
		}
		q.Limit = int(n)
	}
	tok := in.str("page_token")
	if in.err != nil {
		return q, in.err
	}
	q.Offset, err = parsePageToken(tok)
	return q, err
}

// Page tokens are MLflow's: base64 of {"offset": N}.
func pageToken(offset int) string {
	b, _ := json.Marshal(struct {
		Offset int `json:"offset"`
	}{offset})
	return base64.StdEncoding.EncodeToString(b)
}

func parsePageToken(tok string) (int, error) {
	if tok == "" {
		return 0, nil
	}
	b, err := base64.StdEncoding.DecodeString(tok)
	if err != nil {
		return 0, invalid("Invalid page token, could not base64-decode")
	}
	var t struct {
		Offset *int `json:"offset"`
	}
	if err := json.Unmarshal(b, &t); err != nil || t.Offset == nil || *t.Offset < 0 {
		return 0, invalid(fmt.Sprintf("Invalid page token, decoded value=%s", b))
	}
	return *t.Offset, nil
}

func (s *server) searchModels(r *http.Request, p params) (any, error) {
	q, err := searchParams(p, defaultModelResults, maxModelResults)
	if err != nil {
		return nil, err
	}
	ms, more, err := s.st.SearchRegisteredModels(r.Context(), q)
	if err != nil {
		return nil, err
	}
	out := mlflow.SearchRegisteredModelsResponse{RegisteredModels: make([]mlflow.RegisteredModel, 0, len(ms))}
	for _, m := range ms {
		out.RegisteredModels = append(out.RegisteredModels, wireModel(m))
	}
	if more {
		out.NextPageToken = pageToken(q.Offset + len(ms))
	}
	return out, nil
}

func (s *server) latestVersions(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, stages := in.required("name"), in.list("stages")
	if in.err != nil {
		return nil, in.err
	}
	vs, err := s.st.LatestVersions(r.Context(), name, stages)
	if err != nil {
		return nil, err
	}
	return versionsResponse(vs, ""), nil
}

func versionsResponse(vs []store.ModelVersion, next string) mlflow.ModelVersionsResponse {
	out := mlflow.ModelVersionsResponse{ModelVersions: make([]mlflow.ModelVersion, 0, len(vs)), NextPageToken: next}
	for _, v := range vs {
		out.ModelVersions = append(out.ModelVersions, wireVersion(v))
	}
	return out
}

func (s *server) setModelTag(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name := in.required("name")
	key, value := in.tag()
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.SetRegisteredModelTag(r.Context(), name, key, value))
}

func (s *server) deleteModelTag(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, key := in.required("name"), in.required("key")
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.DeleteRegisteredModelTag(r.Context(), name, key))
}

func (s *server) setAlias(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, alias, v := in.required("name"), in.required("alias"), in.version()
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.SetAlias(r.Context(), name, alias, v))
}

func (s *server) deleteAlias(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, alias := in.required("name"), in.required("alias")
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.DeleteAlias(r.Context(), name, alias))
}

func (s *server) versionByAlias(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, alias := in.required("name"), in.required("alias")
	if in.err != nil {
		return nil, in.err
	}
	return versionReply(s.st.VersionByAlias(r.Context(), name, alias))
}

func (s *server) createVersion(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	spec := store.VersionSpec{
		Name: in.required("name"), Source: in.required("source"), RunID: in.str("run_id"),
		RunLink: in.str("run_link"), Description: in.str("description"), Tags: in.tags("tags"),
	}
	if in.err != nil {
		return nil, in.err
	}
	return versionReply(s.st.CreateModelVersion(r.Context(), spec))
}

func (s *server) getVersion(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, ver := in.required("name"), in.version()
	if in.err != nil {
		return nil, in.err
	}
	return versionReply(s.st.GetModelVersion(r.Context(), name, ver))
}

func (s *server) updateVersion(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, ver, desc := in.required("name"), in.version(), in.str("description")
	if in.err != nil {
		return nil, in.err
	}
	return versionReply(s.st.UpdateModelVersion(r.Context(), name, ver, desc))
}

func (s *server) deleteVersion(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, ver := in.required("name"), in.version()
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.DeleteModelVersion(r.Context(), name, ver))
}

func (s *server) searchVersions(r *http.Request, p params) (any, error) {
	q, err := searchParams(p, defaultVersionResults, maxVersionResults)
	if err != nil {
		return nil, err
	}
	vs, more, err := s.st.SearchModelVersions(r.Context(), q)
	if err != nil {
		return nil, err
	}
	next := ""
	if more {
		next = pageToken(q.Offset + len(vs))
	}
	return versionsResponse(vs, next), nil
}

func (s *server) transition(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, ver, stage := in.required("name"), in.version(), in.required("stage")
	archive := in.flag("archive_existing_versions")
	if in.err != nil {
		return nil, in.err
	}
	return versionReply(s.st.TransitionStage(r.Context(), name, ver, stage, archive))
}

func (s *server) setVersionTag(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, ver := in.required("name"), in.version()
	key, value := in.tag()
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.SetModelVersionTag(r.Context(), name, ver, key, value))
}

func (s *server) deleteVersionTag(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, ver, key := in.required("name"), in.version(), in.required("key")
	if in.err != nil {
		return nil, in.err
	}
	return done(s.st.DeleteModelVersionTag(r.Context(), name, ver, key))
}

// downloadURI answers the version's source as registered, as MLflow does:
// mlflow-artifacts:/ sources are fetched through this server's artifact API.
func (s *server) downloadURI(r *http.Request, p params) (any, error) {
	in := reader{p: p}
	name, ver := in.required("name"), in.version()
	if in.err != nil {
		return nil, in.err
	}
	v, err := s.st.GetModelVersion(r.Context(), name, ver)
	if err != nil {
		return nil, err
	}
	return mlflow.DownloadURIResponse{ArtifactURI: v.Source}, nil
}
