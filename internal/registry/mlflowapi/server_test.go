package mlflowapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
	"github.com/bridgeops/bridge/internal/registry/store"
)

type testServer struct {
	*httptest.Server
	st *store.Store
}

func newServer(t *testing.T, opt Options) *testServer {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(st, opt))
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &testServer{Server: srv, st: st}
}

// do sends a request; body is JSON-encoded unless it is a string.
func (s *testServer) do(t *testing.T, method, path string, body any, hdr ...string) (int, map[string]any, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: invalid JSON %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, m, raw
}

type step struct {
	name       string
	method     string
	path       string
	body       any
	wantStatus int
	wantCode   string            // error_code for errors
	want       map[string]string // JSON path (dotted, [i] for arrays) → value
	absent     []string          // JSON paths that must not exist
}

func get(m any, p string) (any, bool) {
	cur := m
	for _, part := range strings.Split(p, ".") {
		idx := -1
		if i := strings.Index(part, "["); i >= 0 {
			var n int
			for _, c := range part[i+1 : len(part)-1] {
				n = n*10 + int(c-'0')
			}
			idx, part = n, part[:i]
		}
		if part != "" {
			mm, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = mm[part]; !ok {
				return nil, false
			}
		}
		if idx >= 0 {
			arr, ok := cur.([]any)
			if !ok || idx >= len(arr) {
				return nil, false
			}
			cur = arr[idx]
		}
	}
	return cur, true
}

func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func runSteps(t *testing.T, s *testServer, steps []step) {
	t.Helper()
	for _, st := range steps {
		status, m, raw := s.do(t, st.method, st.path, st.body)
		if status != st.wantStatus {
			t.Fatalf("%s: %s %s: status %d, want %d; body %s", st.name, st.method, st.path, status, st.wantStatus, raw)
		}
		if st.wantCode != "" {
			if m["error_code"] != st.wantCode || m["message"] == "" || m["message"] == nil {
				t.Fatalf("%s: error body %s, want error_code %s and a message", st.name, raw, st.wantCode)
			}
		}
		for p, want := range st.want {
			v, ok := get(m, p)
			if !ok || str(v) != want {
				t.Fatalf("%s: %s = %v (present %v), want %q; body %s", st.name, p, v, ok, want, raw)
			}
		}
		for _, p := range st.absent {
			if v, ok := get(m, p); ok {
				t.Fatalf("%s: %s = %v, want absent; body %s", st.name, p, v, raw)
			}
		}
	}
}

const api = "/api/2.0/mlflow/"

func TestRegisteredModelEndpoints(t *testing.T) {
	s := newServer(t, Options{})
	runSteps(t, s, []step{
		{name: "create", method: "POST", path: api + "registered-models/create",
			body:       map[string]any{"name": "iris", "description": "flowers", "tags": []map[string]string{{"key": "team", "value": "ml"}}},
			wantStatus: 200, want: map[string]string{"registered_model.name": "iris", "registered_model.description": "flowers",
				"registered_model.tags[0].key": "team", "registered_model.tags[0].value": "ml"}},
		{name: "create duplicate", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": "iris"},
			wantStatus: 400, wantCode: "RESOURCE_ALREADY_EXISTS"},
		{name: "create without name", method: "POST", path: api + "registered-models/create", body: map[string]any{},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "create bad name", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": "a/b"},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "create name of wrong type", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": 5},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "bad json", method: "POST", path: api + "registered-models/create", body: "{not json",
			wantStatus: 400, wantCode: "MALFORMED_REQUEST"},
		{name: "get", method: "GET", path: api + "registered-models/get?name=iris", wantStatus: 200,
			want: map[string]string{"registered_model.name": "iris"}, absent: []string{"registered_model.latest_versions"}},
		{name: "get missing", method: "GET", path: api + "registered-models/get?name=nope", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "get without name", method: "GET", path: api + "registered-models/get", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "get with POST", method: "POST", path: api + "registered-models/get", body: map[string]any{"name": "iris"}, wantStatus: 405, wantCode: "BAD_REQUEST"},
		{name: "update", method: "PATCH", path: api + "registered-models/update", body: map[string]any{"name": "iris", "description": "new"},
			wantStatus: 200, want: map[string]string{"registered_model.description": "new"}},
		{name: "update missing", method: "PATCH", path: api + "registered-models/update", body: map[string]any{"name": "nope", "description": "x"},
			wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "set tag", method: "POST", path: api + "registered-models/set-tag", body: map[string]any{"name": "iris", "key": "owner", "value": "ana"}, wantStatus: 200},
		{name: "set tag bad key", method: "POST", path: api + "registered-models/set-tag", body: map[string]any{"name": "iris", "key": "../x", "value": "v"},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "set tag missing value", method: "POST", path: api + "registered-models/set-tag", body: map[string]any{"name": "iris", "key": "k"},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "tags listed", method: "GET", path: api + "registered-models/get?name=iris", wantStatus: 200,
			want: map[string]string{"registered_model.tags[0].key": "owner", "registered_model.tags[1].key": "team"}},
		{name: "delete tag", method: "DELETE", path: api + "registered-models/delete-tag", body: map[string]any{"name": "iris", "key": "owner"}, wantStatus: 200},
		{name: "delete missing tag is fine", method: "DELETE", path: api + "registered-models/delete-tag", body: map[string]any{"name": "iris", "key": "owner"}, wantStatus: 200},
		{name: "delete tag of missing model", method: "DELETE", path: api + "registered-models/delete-tag", body: map[string]any{"name": "nope", "key": "owner"},
			wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "tag gone", method: "GET", path: api + "registered-models/get?name=iris", wantStatus: 200,
			want: map[string]string{"registered_model.tags[0].key": "team"}, absent: []string{"registered_model.tags[1]"}},
		{name: "create other", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": "other"}, wantStatus: 200},
		{name: "rename onto existing", method: "POST", path: api + "registered-models/rename", body: map[string]any{"name": "iris", "new_name": "other"},
			wantStatus: 400, wantCode: "RESOURCE_ALREADY_EXISTS"},
		{name: "rename without new name", method: "POST", path: api + "registered-models/rename", body: map[string]any{"name": "iris"},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "rename", method: "POST", path: api + "registered-models/rename", body: map[string]any{"name": "iris", "new_name": "iris2"},
			wantStatus: 200, want: map[string]string{"registered_model.name": "iris2", "registered_model.description": "new"}},
		{name: "old name gone", method: "GET", path: api + "registered-models/get?name=iris", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "delete", method: "DELETE", path: api + "registered-models/delete", body: map[string]any{"name": "iris2"}, wantStatus: 200},
		{name: "delete again", method: "DELETE", path: api + "registered-models/delete", body: map[string]any{"name": "iris2"},
			wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "delete via query string", method: "DELETE", path: api + "registered-models/delete?name=other", wantStatus: 200},
		{name: "unknown endpoint", method: "GET", path: api + "experiments/search", wantStatus: 404, wantCode: "ENDPOINT_NOT_FOUND"},
		{name: "ajax prefix", method: "GET", path: "/ajax-api/2.0/mlflow/registered-models/search", wantStatus: 200},
	})
}

func TestModelVersionEndpoints(t *testing.T) {
	s := newServer(t, Options{})
	steps := []step{
		{name: "create model", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": "m"}, wantStatus: 200},
		{name: "version of missing model", method: "POST", path: api + "model-versions/create", body: map[string]any{"name": "nope", "source": "s3://b/k"},
			wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "version without source", method: "POST", path: api + "model-versions/create", body: map[string]any{"name": "m"},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "v1", method: "POST", path: api + "model-versions/create",
			body:       map[string]any{"name": "m", "source": "s3://b/1", "run_id": "r1", "description": "first", "tags": []map[string]string{{"key": "k", "value": "v"}}},
			wantStatus: 200, want: map[string]string{"model_version.name": "m", "model_version.version": "1", "model_version.current_stage": "None",
				"model_version.status": "READY", "model_version.source": "s3://b/1", "model_version.run_id": "r1", "model_version.tags[0].key": "k"}},
		{name: "v2", method: "POST", path: api + "model-versions/create", body: map[string]any{"name": "m", "source": "s3://b/2", "run_id": "r2"},
			wantStatus: 200, want: map[string]string{"model_version.version": "2"}},
		{name: "v3", method: "POST", path: api + "model-versions/create", body: map[string]any{"name": "m", "source": "mlflow-artifacts:/m/3"},
			wantStatus: 200, want: map[string]string{"model_version.version": "3"}},
		{name: "get", method: "GET", path: api + "model-versions/get?name=m&version=1", wantStatus: 200,
			want: map[string]string{"model_version.description": "first", "model_version.tags[0].value": "v"}},
		{name: "get missing version", method: "GET", path: api + "model-versions/get?name=m&version=9", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "get bad version", method: "GET", path: api + "model-versions/get?name=m&version=x", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "update", method: "PATCH", path: api + "model-versions/update", body: map[string]any{"name": "m", "version": "2", "description": "second"},
			wantStatus: 200, want: map[string]string{"model_version.description": "second"}},
		{name: "transition lower-case stage", method: "POST", path: api + "model-versions/transition-stage",
			body: map[string]any{"name": "m", "version": "1", "stage": "production", "archive_existing_versions": false}, wantStatus: 200,
			want: map[string]string{"model_version.current_stage": "Production"}},
		{name: "transition unknown stage", method: "POST", path: api + "model-versions/transition-stage",
			body: map[string]any{"name": "m", "version": "1", "stage": "Prod", "archive_existing_versions": false}, wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "transition without archive flag", method: "POST", path: api + "model-versions/transition-stage",
			body: map[string]any{"name": "m", "version": "1", "stage": "Staging"}, wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "archive into None refused", method: "POST", path: api + "model-versions/transition-stage",
			body: map[string]any{"name": "m", "version": "1", "stage": "None", "archive_existing_versions": true}, wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "promote v2 archiving v1", method: "POST", path: api + "model-versions/transition-stage",
			body: map[string]any{"name": "m", "version": 2, "stage": "Production", "archive_existing_versions": true}, wantStatus: 200,
			want: map[string]string{"model_version.current_stage": "Production"}},
		{name: "v1 archived", method: "GET", path: api + "model-versions/get?name=m&version=1", wantStatus: 200,
			want: map[string]string{"model_version.current_stage": "Archived"}},
		{name: "latest versions all stages", method: "POST", path: api + "registered-models/get-latest-versions", body: map[string]any{"name": "m"}, wantStatus: 200,
			want: map[string]string{"model_versions[0].current_stage": "Archived", "model_versions[0].version": "1",
				"model_versions[1].current_stage": "None", "model_versions[1].version": "3",
				"model_versions[2].current_stage": "Production", "model_versions[2].version": "2"}},
		{name: "latest versions by stage", method: "POST", path: api + "registered-models/get-latest-versions", body: map[string]any{"name": "m", "stages": []string{"production"}},
			wantStatus: 200, want: map[string]string{"model_versions[0].version": "2"}, absent: []string{"model_versions[1]"}},
		{name: "latest versions GET", method: "GET", path: api + "registered-models/get-latest-versions?name=m&stages=None&stages=Staging",
			wantStatus: 200, want: map[string]string{"model_versions[0].version": "3"}, absent: []string{"model_versions[1]"}},
		{name: "latest versions bad stage", method: "POST", path: api + "registered-models/get-latest-versions", body: map[string]any{"name": "m", "stages": []string{"Live"}},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "latest versions missing model", method: "POST", path: api + "registered-models/get-latest-versions", body: map[string]any{"name": "x"},
			wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "model shows latest versions", method: "GET", path: api + "registered-models/get?name=m", wantStatus: 200,
			want: map[string]string{"registered_model.latest_versions[2].version": "2"}},
		{name: "set alias", method: "POST", path: api + "registered-models/alias", body: map[string]any{"name": "m", "alias": "champion", "version": "3"}, wantStatus: 200},
		{name: "alias to missing version", method: "POST", path: api + "registered-models/alias", body: map[string]any{"name": "m", "alias": "x", "version": "9"},
			wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "reserved alias", method: "POST", path: api + "registered-models/alias", body: map[string]any{"name": "m", "alias": "latest", "version": "1"},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "get by alias", method: "GET", path: api + "registered-models/alias?name=m&alias=champion", wantStatus: 200,
			want: map[string]string{"model_version.version": "3", "model_version.aliases[0]": "champion"}},
		{name: "aliases on model", method: "GET", path: api + "registered-models/get?name=m", wantStatus: 200,
			want: map[string]string{"registered_model.aliases[0].alias": "champion", "registered_model.aliases[0].version": "3"}},
		{name: "move alias", method: "POST", path: api + "registered-models/alias", body: map[string]any{"name": "m", "alias": "champion", "version": "2"}, wantStatus: 200},
		{name: "alias moved", method: "GET", path: api + "registered-models/alias?name=m&alias=champion", wantStatus: 200,
			want: map[string]string{"model_version.version": "2"}},
		{name: "delete alias", method: "DELETE", path: api + "registered-models/alias", body: map[string]any{"name": "m", "alias": "champion"}, wantStatus: 200},
		{name: "alias gone", method: "GET", path: api + "registered-models/alias?name=m&alias=champion", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "set version tag", method: "POST", path: api + "model-versions/set-tag", body: map[string]any{"name": "m", "version": "3", "key": "bridge_deploy_state", "value": "DEPLOYED"}, wantStatus: 200},
		{name: "tag on missing version", method: "POST", path: api + "model-versions/set-tag", body: map[string]any{"name": "m", "version": "9", "key": "k", "value": "v"},
			wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "tag value too long", method: "POST", path: api + "model-versions/set-tag", body: map[string]any{"name": "m", "version": "3", "key": "k", "value": strings.Repeat("x", 5001)},
			wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "version tag listed", method: "GET", path: api + "model-versions/get?name=m&version=3", wantStatus: 200,
			want: map[string]string{"model_version.tags[0].key": "bridge_deploy_state", "model_version.tags[0].value": "DEPLOYED"}},
		{name: "delete version tag", method: "DELETE", path: api + "model-versions/delete-tag", body: map[string]any{"name": "m", "version": "3", "key": "bridge_deploy_state"}, wantStatus: 200},
		{name: "version tag gone", method: "GET", path: api + "model-versions/get?name=m&version=3", wantStatus: 200, absent: []string{"model_version.tags"}},
		{name: "download uri", method: "GET", path: api + "model-versions/get-download-uri?name=m&version=3", wantStatus: 200,
			want: map[string]string{"artifact_uri": "mlflow-artifacts:/m/3"}},
		{name: "download uri missing", method: "GET", path: api + "model-versions/get-download-uri?name=m&version=7", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "search by run_id", method: "GET", path: api + "model-versions/search?filter=" + url.QueryEscape("run_id = 'r2'"), wantStatus: 200,
			want: map[string]string{"model_versions[0].version": "2"}, absent: []string{"model_versions[1]"}},
		{name: "search by name, default order version DESC", method: "GET", path: api + "model-versions/search?filter=" + url.QueryEscape("name='m'"), wantStatus: 200,
			want: map[string]string{"model_versions[0].version": "3", "model_versions[2].version": "1"}},
		{name: "search bad filter", method: "GET", path: api + "model-versions/search?filter=" + url.QueryEscape("bogus = 'x'"), wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "search by version_number and tag", method: "GET", path: api + "model-versions/search?filter=" + url.QueryEscape("name = 'm' AND version_number <= 2 AND tags.k = 'v'"),
			wantStatus: 200, want: map[string]string{"model_versions[0].version": "1"}, absent: []string{"model_versions[1]"}},
		{name: "search ordered by version ASC, paged", method: "GET", path: api + "model-versions/search?max_results=2&order_by=version_number+ASC&filter=" + url.QueryEscape("name = 'm'"),
			wantStatus: 200, want: map[string]string{"model_versions[0].version": "1", "model_versions[1].version": "2", "next_page_token": "eyJvZmZzZXQiOjJ9"}},
		{name: "second page", method: "GET", path: api + "model-versions/search?max_results=2&order_by=version_number+ASC&page_token=eyJvZmZzZXQiOjJ9&filter=" + url.QueryEscape("name = 'm'"),
			wantStatus: 200, want: map[string]string{"model_versions[0].version": "3"}, absent: []string{"model_versions[1]", "next_page_token"}},
		{name: "search max_results too large", method: "GET", path: api + "model-versions/search?max_results=200001", wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
		{name: "delete version", method: "DELETE", path: api + "model-versions/delete", body: map[string]any{"name": "m", "version": "3"}, wantStatus: 200},
		{name: "deleted version gone", method: "GET", path: api + "model-versions/get?name=m&version=3", wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"},
		{name: "numbers not reused", method: "POST", path: api + "model-versions/create", body: map[string]any{"name": "m", "source": "s3://b/4"},
			wantStatus: 200, want: map[string]string{"model_version.version": "4"}},
	}
	runSteps(t, s, steps)
}

func TestSearchPaginationAndOrder(t *testing.T) {
	s := newServer(t, Options{})
	ctx := context.Background()
	for _, n := range []string{"alpha", "beta", "gamma", "delta", "Alpine"} {
		tags := map[string]string{}
		if n[0] == 'a' || n[0] == 'A' {
			tags["team"] = "ml"
		}
		if _, err := s.st.CreateRegisteredModel(ctx, n, "", tags); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"Alpine", "alpha", "beta", "delta", "gamma"}},
		{"filter=" + url.QueryEscape("name LIKE 'al%'"), []string{"alpha"}},
		{"filter=" + url.QueryEscape("name ILIKE 'al%'"), []string{"Alpine", "alpha"}},
		{"filter=" + url.QueryEscape("name = 'beta'"), []string{"beta"}},
		{"order_by=" + url.QueryEscape("name DESC"), []string{"gamma", "delta", "beta", "alpha", "Alpine"}},
		{"filter=" + url.QueryEscape("tags.team = 'ml'"), []string{"Alpine", "alpha"}},
		{"filter=" + url.QueryEscape("tags.team = 'ml' AND name != 'alpha'"), []string{"Alpine"}},
		{"filter=" + url.QueryEscape("name = 'nobody'"), nil},
	}
	for _, tt := range tests {
		status, m, raw := s.do(t, "GET", api+"registered-models/search?"+tt.query, nil)
		if status != 200 {
			t.Fatalf("%s: %d %s", tt.query, status, raw)
		}
		var got []string
		for _, rm := range asList(m["registered_models"]) {
			got = append(got, rm.(map[string]any)["name"].(string))
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("search %q = %v, want %v", tt.query, got, tt.want)
		}
	}
	// Pages of 2 walk every model once, in order.
	var got []string
	tok := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		q := "max_results=2"
		if tok != "" {
			q += "&page_token=" + url.QueryEscape(tok)
		}
		status, m, raw := s.do(t, "GET", api+"registered-models/search?"+q, nil)
		if status != 200 {
			t.Fatalf("%d %s", status, raw)
		}
		for _, rm := range asList(m["registered_models"]) {
			got = append(got, rm.(map[string]any)["name"].(string))
		}
		next, _ := m["next_page_token"].(string)
		if next == "" {
			break
		}
		tok = next
	}
	if strings.Join(got, ",") != "Alpine,alpha,beta,delta,gamma" {
		t.Fatalf("paged search = %v", got)
	}
	for _, bad := range []string{"max_results=0", "max_results=1001", "max_results=x", "page_token=%25%25%25", "order_by=" + url.QueryEscape("size DESC")} {
		status, m, raw := s.do(t, "GET", api+"registered-models/search?"+bad, nil)
		if status != 400 || m["error_code"] != "INVALID_PARAMETER_VALUE" {
			t.Errorf("search ?%s: %d %s, want 400 INVALID_PARAMETER_VALUE", bad, status, raw)
		}
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

func TestAuth(t *testing.T) {
	s := newServer(t, Options{Token: "s3cret"})
	path := api + "registered-models/search"
	tests := []struct {
		name   string
		hdr    []string
		status int
	}{
		{"no credentials", nil, 401},
		{"wrong bearer", []string{"Authorization", "Bearer nope"}, 401},
		{"bearer", []string{"Authorization", "Bearer s3cret"}, 200},
		{"basic with token as password", []string{"Authorization", "Basic " + b64("user:s3cret")}, 200},
		{"basic with wrong password", []string{"Authorization", "Basic " + b64("user:nope")}, 401},
		{"garbage", []string{"Authorization", "Basic ***"}, 401},
	}
	for _, tt := range tests {
		status, m, raw := s.do(t, "GET", path, nil, tt.hdr...)
		if status != tt.status {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, status, tt.status, raw)
		}
		if status == 401 && m["error_code"] != "UNAUTHENTICATED" {
			t.Errorf("%s: body %s", tt.name, raw)
		}
	}
	// Artifacts are protected too; /health is not.
	if status, _, _ := s.do(t, "GET", artifactsPath, nil); status != 401 {
		t.Errorf("artifact list without token: %d", status)
	}
	if status, _, raw := s.do(t, "GET", "/health", nil); status != 200 || string(raw) != "OK" {
		t.Errorf("/health: %d %s", status, raw)
	}
	open := newServer(t, Options{})
	if status, _, _ := open.do(t, "GET", path, nil); status != 200 {
		t.Errorf("auth off: status %d", status)
	}
}

func b64(s string) string {
	return strings.TrimSpace(base64Std(s))
}

func TestBodyLimit(t *testing.T) {
	s := newServer(t, Options{MaxBodyBytes: 1024})
	status, m, raw := s.do(t, "POST", api+"registered-models/create", map[string]any{"name": "m", "description": strings.Repeat("x", 2000)})
	if status != http.StatusRequestEntityTooLarge || m["error_code"] != "INVALID_PARAMETER_VALUE" {
		t.Fatalf("oversized body: %d %s", status, raw)
	}
	if _, err := s.st.GetRegisteredModel(context.Background(), "m"); !mlflowerr.IsNotFound(err) {
		t.Fatalf("oversized request wrote something: %v", err)
	}
}

func TestWritesThroughTheAPINotify(t *testing.T) {
	s := newServer(t, Options{})
	changes := s.st.Changes()
	writes := []step{
		{name: "create", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": "m"}, wantStatus: 200},
		{name: "version", method: "POST", path: api + "model-versions/create", body: map[string]any{"name": "m", "source": "s3://b/k"}, wantStatus: 200},
		{name: "transition", method: "POST", path: api + "model-versions/transition-stage",
			body: map[string]any{"name": "m", "version": "1", "stage": "Staging", "archive_existing_versions": false}, wantStatus: 200},
		{name: "alias", method: "POST", path: api + "registered-models/alias", body: map[string]any{"name": "m", "alias": "champion", "version": "1"}, wantStatus: 200},
	}
	for _, w := range writes {
		runSteps(t, s, []step{w})
		select {
		case <-changes:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s through the API: no change notification", w.name)
		}
	}
	// A refused request changes nothing and wakes nobody.
	runSteps(t, s, []step{{name: "bad", method: "POST", path: api + "model-versions/create", body: map[string]any{"name": "nope", "source": "x"},
		wantStatus: 404, wantCode: "RESOURCE_DOES_NOT_EXIST"}})
	select {
	case <-changes:
		t.Fatal("a refused request notified a change")
	case <-time.After(3 * store.PollInterval):
	}
}

func TestStorageFailureIsInternalError(t *testing.T) {
	s := newServer(t, Options{})
	s.st.Close() // the database is gone: every registry call fails
	runSteps(t, s, []step{
		{name: "read", method: "GET", path: api + "registered-models/get?name=m", wantStatus: 500, wantCode: "INTERNAL_ERROR"},
		{name: "write", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": "m"}, wantStatus: 500, wantCode: "INTERNAL_ERROR"},
		// Validation still answers 400 before touching storage.
		{name: "invalid", method: "POST", path: api + "registered-models/create", body: map[string]any{"name": ""}, wantStatus: 400, wantCode: "INVALID_PARAMETER_VALUE"},
	})
}
