package iampolicy

import (
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedPath is the repository copy of the SageMaker deploy-target guide.
func seedPath(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "docs", "seeds", "000_9ad168cfbf4cc7b3.txt")
}

func TestEmbeddedPoliciesEqualSeed(t *testing.T) {
	raw, err := os.ReadFile(seedPath(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ anchor, command string }{
		{"init-destroy-policy", Init},
		{"init-destroy-policy", Destroy},
		{"run-policy", Run},
	} {
		want, err := SeedPolicy(string(raw), tc.anchor)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Template(tc.command)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: embedded policy differs from the seed's %q block", tc.command, tc.anchor)
		}
		if _, err := Parse([]byte(got)); err != nil {
			t.Errorf("%s: %v", tc.command, err)
		}
	}
}

func TestRenderFillsEveryPlaceholder(t *testing.T) {
	for _, tc := range []struct {
		command          string
		accounts, region int // placeholder counts the guide announces
	}{
		{Init, 7, 3},
		{Run, 6, 2},
	} {
		tmpl, _ := Template(tc.command)
		if n := strings.Count(tmpl, AccountPlaceholder); n != tc.accounts {
			t.Errorf("%s: %d account placeholders, the guide says %d", tc.command, n, tc.accounts)
		}
		if n := strings.Count(tmpl, RegionPlaceholder); n != tc.region {
			t.Errorf("%s: %d region placeholders, the guide says %d", tc.command, n, tc.region)
		}
		doc, err := Render(tc.command, "123456789012", "eu-west-1")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(doc, "<YOUR_") {
			t.Errorf("%s: placeholders left: %s", tc.command, doc)
		}
		if n := strings.Count(doc, "123456789012"); n != tc.accounts {
			t.Errorf("%s: account filled %d times, want %d", tc.command, n, tc.accounts)
		}
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	for _, tc := range []struct{ command, account, region string }{
		{"deploy", "123456789012", "eu-west-1"},
		{Run, "12345", "eu-west-1"},
		{Run, "12345678901a", "eu-west-1"},
		{Run, "123456789012", "Europe"},
		{Run, "123456789012", ""},
	} {
		if _, err := Render(tc.command, tc.account, tc.region); err == nil {
			t.Errorf("Render(%q, %q, %q): want an error", tc.command, tc.account, tc.region)
		}
	}
}

func TestAllowed(t *testing.T) {
	initP := MustPolicy(Init, "123456789012", "us-east-1")
	runP := MustPolicy(Run, "123456789012", "us-east-1")
	const bucket = "arn:aws:s3:::bridge-models-123456789012-us-east-1"
	for _, tc := range []struct {
		name     string
		p        *Policy
		action   string
		resource string
		want     bool
	}{
		{"init creates role", initP, "iam:CreateRole", "arn:aws:iam::123456789012:role/bridge-sagemaker-execution", true},
		{"action names are case-insensitive", initP, "IAM:createrole", "arn:aws:iam::123456789012:role/bridge-sagemaker-execution", true},
		{"other role", initP, "iam:CreateRole", "arn:aws:iam::123456789012:role/admin", false},
		{"other account", initP, "iam:CreateRole", "arn:aws:iam::999999999999:role/bridge-sagemaker-execution", false},
		{"no GetRole", initP, "iam:GetRole", "arn:aws:iam::123456789012:role/bridge-sagemaker-execution", false},
		{"init creates bucket", initP, "s3:CreateBucket", bucket, true},
		{"run cannot create bucket", runP, "s3:CreateBucket", bucket, false},
		{"object wildcard", runP, "s3:PutObject", bucket + "/iris/1/artifact.tar.gz", true},
		{"object wildcard matches inside", runP, "s3:GetObjectAttributes", bucket + "/x", true},
		{"abort multipart is no object action", runP, "s3:AbortMultipartUpload", bucket + "/x", false},
		{"object action on bucket ARN", runP, "s3:PutObject", bucket, false},
		{"list bucket", runP, "s3:ListBucket", bucket, true},
		{"other region bucket", runP, "s3:ListBucket", "arn:aws:s3:::bridge-models-123456789012-eu-west-1", false},
		{"create brdg model", runP, "sagemaker:CreateModel", "arn:aws:sagemaker:us-east-1:123456789012:model/brdg-iris-1", true},
		{"create other model", runP, "sagemaker:CreateModel", "arn:aws:sagemaker:us-east-1:123456789012:model/iris-1", false},
		{"any region sagemaker", runP, "sagemaker:DeleteEndpoint", "arn:aws:sagemaker:ap-south-1:123456789012:endpoint/brdg-a-latest", true},
		{"no tagging", runP, "sagemaker:AddTags", "arn:aws:sagemaker:us-east-1:123456789012:endpoint/brdg-a-latest", false},
		{"list everything", runP, "sagemaker:ListEndpoints", "*", true},
		{"pass role", runP, "iam:PassRole", "arn:aws:iam::123456789012:role/bridge-sagemaker-execution", true},
		{"init cannot create model", initP, "sagemaker:CreateModel", "arn:aws:sagemaker:us-east-1:123456789012:model/brdg-iris-1", false},
		{"init deletes model", initP, "sagemaker:DeleteModel", "arn:aws:sagemaker:us-east-1:123456789012:model/brdg-iris-1", true},
	} {
		if got := tc.p.Allowed(tc.action, tc.resource); got != tc.want {
			t.Errorf("%s: Allowed(%s, %s) = %v, want %v", tc.name, tc.action, tc.resource, got, tc.want)
		}
	}
}

func TestDenyWins(t *testing.T) {
	p, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:*","Resource":"*"},
		{"Effect":"Deny","Action":["s3:Delete*"],"Resource":"arn:aws:s3:::keep/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.Allowed("s3:DeleteObject", "arn:aws:s3:::other/x") || p.Allowed("s3:DeleteObject", "arn:aws:s3:::keep/x") {
		t.Error("deny must override allow only where it matches")
	}
}

func TestParseRejects(t *testing.T) {
	for _, doc := range []string{
		`{}`,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":7,"Resource":"*"}]}`,
	} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("Parse(%s): want an error", doc)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything", true},
		{"a*c", "abbbc", true},
		{"a*c", "abbbd", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*Object*", "putobject", false}, // case-sensitive at this level
		{"*Object*", "PutObjectAcl", true},
		{"brdg-*", "brdg-", true},
		{"brdg-*", "xbrdg-a", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYcZ", false},
	} {
		if got := Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// FuzzMatch checks Match against a regular expression built from the same
// wildcard pattern.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{{"a*b?c", "axxbyc"}, {"*Object*", "PutObjectTagging"}, {"brdg-*", "brdg-"}, {"**?", ""}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 40 || len(s) > 40 {
			return
		}
		var re strings.Builder
		re.WriteString(`^`)
		for i := 0; i < len(pattern); i++ {
			switch c := pattern[i]; c {
			case '*':
				re.WriteString(`(?s:.*)`)
			case '?':
				re.WriteString(`(?s:.)`)
			default:
				re.WriteString(regexp.QuoteMeta(string([]byte{c})))
			}
		}
		re.WriteString(`$`)
		// Match works on bytes; compare on byte strings (Latin-1 view).
		r, err := regexp.Compile(re.String())
		if err != nil {
			return
		}
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || strings.ContainsRune(pattern+s, utf8.RuneError) {
			return
		}
		ascii := true
		for _, c := range []byte(pattern + s) {
			ascii = ascii && c < 0x80
		}
		if !ascii {
			return // ? matches one byte here, one rune in the regexp
		}
		if got, want := Match(pattern, s), r.MatchString(s); got != want {
			t.Fatalf("Match(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}
