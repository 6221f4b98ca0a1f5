package sgname

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/bridgeops/bridge/internal/model"
)

func TestModelNames(t *testing.T) {
	for _, tc := range []struct {
		ref    model.VersionRef
		want   string // exact name; "" means hashed
		prefix string // for hashed names: the readable start
	}{
		{model.VersionRef{Model: "iris", Version: 3}, "brdg-iris-3", ""},
		{model.VersionRef{Model: "iris-classifier", Version: 12}, "brdg-iris-classifier-12", ""},
		{model.VersionRef{Model: "Iris", Version: 3}, "", "brdg-iris-3--"},
		{model.VersionRef{Model: "iris_classifier", Version: 1}, "", "brdg-iris-classifier-1--"},
		{model.VersionRef{Model: "iris--x", Version: 1}, "", "brdg-iris-x-1--"},
		{model.VersionRef{Model: "-iris", Version: 1}, "", "brdg-iris-1--"},
		{model.VersionRef{Model: "模型", Version: 1}, "", "brdg-1--"},
		{model.VersionRef{Model: "__", Version: 1}, "", "brdg-1--"},
		{model.VersionRef{Model: strings.Repeat("a", 60), Version: 1}, "", "brdg-aaaa"},
	} {
		got := Model(tc.ref)
		if !Valid(got) || len(got) > MaxLen || !strings.HasPrefix(got, Prefix) {
			t.Errorf("Model(%v) = %q: not a valid Bridge name", tc.ref, got)
		}
		if tc.want != "" {
			if got != tc.want {
				t.Errorf("Model(%v) = %q, want %q", tc.ref, got, tc.want)
			}
			back, ok := ParseModel(got)
			if !ok || back != tc.ref {
				t.Errorf("ParseModel(%q) = %v, %v; want %v", got, back, ok, tc.ref)
			}
			continue
		}
		if !Hashed(got) || !strings.HasPrefix(got, tc.prefix) {
			t.Errorf("Model(%v) = %q, want a hashed name starting %q", tc.ref, got, tc.prefix)
		}
		if _, ok := ParseModel(got); ok {
			t.Errorf("ParseModel(%q) decoded a hashed name", got)
		}
	}
}

func TestEndpointNames(t *testing.T) {
	for _, tc := range []struct {
		key  model.EndpointKey
		want string // "" means hashed
	}{
		{model.EndpointKey{Model: "iris", Slot: model.SlotLatest}, "brdg-iris-latest"},
		{model.EndpointKey{Model: "iris", Slot: model.StageStaging}, "brdg-iris-staging"},
		{model.EndpointKey{Model: "iris-big", Slot: model.StageProduction}, "brdg-iris-big-production"},
		{model.EndpointKey{Model: "iris", Slot: "champion"}, "brdg-iris-champion"},
		{model.EndpointKey{Model: "iris", Slot: "production"}, ""}, // alias spelled like a stage
		{model.EndpointKey{Model: "iris", Slot: "Champion"}, ""},
		{model.EndpointKey{Model: "iris", Slot: "my-alias"}, ""},
		{model.EndpointKey{Model: "Iris", Slot: model.StageProduction}, ""},
		{model.EndpointKey{Model: strings.Repeat("m", 40), Slot: model.StageProduction}, ""},
	} {
		got := Endpoint(tc.key)
		if !Valid(got) || len(got) > MaxEndpointLen {
			t.Errorf("Endpoint(%v) = %q: invalid or too long for its configs", tc.key, got)
		}
		if !Valid(EndpointConfig(got, "0123abcd")) {
			t.Errorf("config name of %q is invalid", got)
		}
		if back, ok := ConfigEndpoint(EndpointConfig(got, "0123abcd")); !ok || back != got {
			t.Errorf("ConfigEndpoint round trip of %q = %q, %v", got, back, ok)
		}
		if tc.want == "" {
			if !Hashed(got) {
				t.Errorf("Endpoint(%v) = %q, want a hashed name", tc.key, got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Endpoint(%v) = %q, want %q", tc.key, got, tc.want)
		}
		back, ok := ParseEndpoint(got)
		if !ok || back != tc.key {
			t.Errorf("ParseEndpoint(%q) = %v, %v; want %v", got, back, ok, tc.key)
		}
	}
}

func TestConfigEndpointRejects(t *testing.T) {
	for _, s := range []string{"brdg-iris-latest", "iris-latest-0123abcd", "brdg-iris-latest-0123abcx", "brdg-0123abcd", "brdg-iris-latest-0123abcde"} {
		if e, ok := ConfigEndpoint(s); ok {
			t.Errorf("ConfigEndpoint(%q) = %q, want no match", s, e)
		}
	}
}

// TestNoCollisions maps many similar registry names, including names that
// differ only in case or punctuation, and checks that no two SageMaker names
// are equal ignoring case (SageMaker's uniqueness rule).
func TestNoCollisions(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	alphabet := []rune("aA-_.1 /é")
	models := map[string]bool{"iris": true, "Iris": true, "IRIS": true, "iris-": true, "iris_": true, "iris.": true, "i-ris": true, "iri-s": true}
	for len(models) < 400 {
		n := 1 + rng.Intn(8)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteRune(alphabet[rng.Intn(len(alphabet))])
		}
		models[b.String()] = true
	}
	slots := []string{model.SlotLatest, model.StageStaging, model.StageProduction, "production", "latest", "champion", "Champion", "a-b", "b"}
	seen := map[string]string{}
	check := func(name, what string) {
		t.Helper()
		if !Valid(name) {
			t.Fatalf("%s -> %q: invalid SageMaker name", what, name)
		}
		k := strings.ToLower(name)
		if prev, dup := seen[k]; dup {
			t.Fatalf("collision: %s and %s both map to %q", prev, what, name)
		}
		seen[k] = what
	}
	for m := range models {
		for v := 1; v <= 3; v++ {
			check(Model(model.VersionRef{Model: m, Version: v}), "model "+m+"/"+string(rune('0'+v)))
		}
	}
	seenEP := seen
	seen = map[string]string{} // endpoints live in their own namespace
	for m := range models {
		for _, s := range slots {
			check(Endpoint(model.EndpointKey{Model: m, Slot: s}), "endpoint "+m+"/"+s)
		}
	}
	// Model "a-b" slot "c" vs model "a" slot "b-c": hyphens must not blur the split.
	if Endpoint(model.EndpointKey{Model: "a-b", Slot: "c"}) == Endpoint(model.EndpointKey{Model: "a", Slot: "b-c"}) {
		t.Fatal("hyphen split ambiguity")
	}
	if len(seenEP) == 0 {
		t.Fatal("no model names checked")
	}
}

func FuzzNames(f *testing.F) {
	for _, s := range []string{"iris", "Iris", "a--b", "", "x_y", "production"} {
		f.Add(s, s, 1)
	}
	f.Fuzz(func(t *testing.T, m, slot string, v int) {
		if v < 1 {
			v = 1
		}
		ref := model.VersionRef{Model: m, Version: v}
		n := Model(ref)
		if !Valid(n) || !strings.HasPrefix(n, Prefix) {
			t.Fatalf("Model(%v) = %q", ref, n)
		}
		if back, ok := ParseModel(n); ok && back != ref {
			t.Fatalf("ParseModel(Model(%v)) = %v", ref, back)
		}
		key := model.EndpointKey{Model: m, Slot: slot}
		e := Endpoint(key)
		if !Valid(e) || len(e) > MaxEndpointLen {
			t.Fatalf("Endpoint(%v) = %q", key, e)
		}
		if back, ok := ParseEndpoint(e); ok && back != key {
			t.Fatalf("ParseEndpoint(Endpoint(%v)) = %v", key, back)
		}
	})
}
