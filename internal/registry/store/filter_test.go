package store

import (
	"reflect"
	"testing"

	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in      string
		want    []Cond
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "name = 'iris'", want: []Cond{{Attr: "name", Op: "=", Values: []string{"iris"}}}},
		{in: `name="iris"`, want: []Cond{{Attr: "name", Op: "=", Values: []string{"iris"}}}},
		{in: "name LIKE 'ir%'", want: []Cond{{Attr: "name", Op: "LIKE", Values: []string{"ir%"}}}},
		{in: "name ilike 'IR%'", want: []Cond{{Attr: "name", Op: "ILIKE", Values: []string{"IR%"}}}},
		{in: "name != 'a' and run_id = 'r1'", want: []Cond{
			{Attr: "name", Op: "!=", Values: []string{"a"}}, {Attr: "run_id", Op: "=", Values: []string{"r1"}}}},
		{in: "run_id IN ('a', 'b')", want: []Cond{{Attr: "run_id", Op: "IN", Values: []string{"a", "b"}}}},
		{in: "tags.team = 'ml'", want: []Cond{{Attr: "tags", Key: "team", Op: "=", Values: []string{"ml"}}}},
		{in: "tags.`my key` = 'v'", want: []Cond{{Attr: "tags", Key: "my key", Op: "=", Values: []string{"v"}}}},
		{in: "version_number >= 3", want: []Cond{{Attr: "version_number", Op: ">=", Values: []string{"3"}}}},
		{in: "name = 'it''s'", want: []Cond{{Attr: "name", Op: "=", Values: []string{"it's"}}}},
		{in: "name = 'unterminated", wantErr: true},
		{in: "name 'x'", wantErr: true},
		{in: "name = 'a' OR name = 'b'", wantErr: true},
		{in: "name =", wantErr: true},
		{in: "run_id IN ('a'", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseFilter(tt.in)
		if tt.wantErr {
			if !mlflowerr.IsInvalid(err) {
				t.Errorf("ParseFilter(%q) error = %v, want INVALID_PARAMETER_VALUE", tt.in, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFilter(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestLikeToGlob(t *testing.T) {
	for in, want := range map[string]string{"ir%": "ir*", "a_c": "a?c", "a*b": "a[*]b", `100\%`: "100%", "[x]": "[[]x]"} {
		if got := likeToGlob(in); got != want {
			t.Errorf("likeToGlob(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseOrderBy(t *testing.T) {
	got, err := ParseOrderBy([]string{"name DESC", "timestamp"}, "name", "last_updated_timestamp")
	if err != nil || !reflect.DeepEqual(got, []Order{{"name", true}, {"last_updated_timestamp", false}}) {
		t.Fatalf("got %+v, %v", got, err)
	}
	for _, bad := range []string{"bogus", "name SIDEWAYS", "name ASC extra", ""} {
		if _, err := ParseOrderBy([]string{bad}, "name"); !mlflowerr.IsInvalid(err) {
			t.Errorf("ParseOrderBy(%q) error = %v", bad, err)
		}
	}
}

func TestValidation(t *testing.T) {
	tests := []struct {
		what string
		err  error
		ok   bool
	}{
		{"name ok", ValidateModelName("name", "iris-v2.1 prod"), true},
		{"name empty", ValidateModelName("name", ""), false},
		{"name slash", ValidateModelName("name", "a/b"), false},
		{"name newline", ValidateModelName("name", "a\nb"), false},
		{"name spaces", ValidateModelName("name", " a"), false},
		{"tag ok", ValidateTag("bridge_deploy_state", "DEPLOYED"), true},
		{"tag path", ValidateTag("a/../b", "v"), false},
		{"tag chars", ValidateTag("a;b", "v"), false},
		{"tag empty", ValidateTag("", "v"), false},
		{"tag long value", ValidateTag("k", string(make([]byte, MaxTagValueLength+1))), false},
		{"alias ok", ValidateAlias("champion"), true},
		{"alias latest", ValidateAlias("Latest"), false},
		{"alias version", ValidateAlias("v3"), false},
		{"alias chars", ValidateAlias("a b"), false},
	}
	for _, tt := range tests {
		if (tt.err == nil) != tt.ok || (tt.err != nil && !mlflowerr.IsInvalid(tt.err)) {
			t.Errorf("%s: err = %v, want ok=%v", tt.what, tt.err, tt.ok)
		}
	}
	for in, want := range map[string]string{"production": "Production", "STAGING": "Staging", "none": "None", "Archived": "Archived"} {
		if got, err := CanonicalStage(in); err != nil || got != want {
			t.Errorf("CanonicalStage(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := CanonicalStage("Prod"); !mlflowerr.IsInvalid(err) {
		t.Errorf("CanonicalStage(Prod) = %v", err)
	}
}

func TestCleanArtifactPath(t *testing.T) {
	for in, want := range map[string]string{"a/b": "a/b", "/a/./b/": "a/b", "": ""} {
		if got, err := CleanArtifactPath(in); err != nil || got != want {
			t.Errorf("CleanArtifactPath(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"../x", "a/../../x", "//etc/passwd", "a\\b", "a\x00"} {
		if _, err := CleanArtifactPath(bad); !mlflowerr.IsInvalid(err) {
			t.Errorf("CleanArtifactPath(%q) error = %v", bad, err)
		}
	}
}
