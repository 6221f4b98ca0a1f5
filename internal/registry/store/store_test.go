package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/registry/mlflowerr"
)

func openTest(t *testing.T) (*Store, string) {
	t.Helper()
	home := t.TempDir()
	s, err := Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, home
}

func mustCreate(t *testing.T, s *Store, name string) {
	t.Helper()
	if _, err := s.CreateRegisteredModel(context.Background(), name, "", nil); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentVersionCreation(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustCreate(t, s, "m")
	const writers, each = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	got := make(chan int, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				v, err := s.CreateModelVersion(ctx, VersionSpec{Name: "m", Source: "file:///x"})
				if err != nil {
					errs <- err
					return
				}
				got <- v.Version
			}
		}()
	}
	wg.Wait()
	close(errs)
	close(got)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for v := range got {
		if seen[v] {
			t.Fatalf("version %d assigned twice", v)
		}
		seen[v] = true
	}
	for v := 1; v <= writers*each; v++ {
		if !seen[v] {
			t.Fatalf("version %d missing", v)
		}
	}
	all, err := s.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("Versions returned %d, want %d", len(all), writers*each)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRegisteredModel(ctx, "iris", "flowers", map[string]string{"team": "ml"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.CreateModelVersion(ctx, VersionSpec{Name: "iris", Source: fmt.Sprintf("s3://b/%d", i), Tags: map[string]string{"i": fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.TransitionStage(ctx, "iris", 2, "production", false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAlias(ctx, "iris", "champion", 3); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteModelVersion(ctx, "iris", 3); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.GetRegisteredModel(ctx, "iris")
	if err != nil {
		t.Fatal(err)
	}
	if m.Description != "flowers" || m.Tags["team"] != "ml" || len(m.Aliases) != 0 {
		t.Fatalf("model after reopen: %+v (alias of deleted version must be gone)", m)
	}
	vs, err := s.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || vs[1].Stage != model.StageProduction || vs[0].Tags["i"] != "0" {
		t.Fatalf("versions after reopen: %+v", vs)
	}
	// Numbers are never reused: the next version is 4, not 3.
	v, err := s.CreateModelVersion(ctx, VersionSpec{Name: "iris", Source: "s3://b/x"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 4 {
		t.Fatalf("next version = %d, want 4", v.Version)
	}
	if _, err := filepath.Abs(filepath.Join(home, FileName)); err != nil {
		t.Fatal(err)
	}
}

func TestChangesNotifiedAfterCommit(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	ops := []struct {
		name string
		do   func() error
	}{
		{"create model", func() error { _, err := s.CreateRegisteredModel(ctx, "n", "", nil); return err }},
		{"create version", func() error { _, err := s.CreateModelVersion(ctx, VersionSpec{Name: "n", Source: "x"}); return err }},
		{"transition", func() error { _, err := s.TransitionStage(ctx, "n", 1, "Staging", true); return err }},
		{"alias", func() error { return s.SetAlias(ctx, "n", "champion", 1) }},
		{"tag", func() error { return s.SetVersionTag(ctx, model.VersionRef{Model: "n", Version: 1}, "k", "v") }},
		{"untag", func() error { return s.DeleteVersionTag(ctx, model.VersionRef{Model: "n", Version: 1}, "k") }},
		{"delete version", func() error { return s.DeleteModelVersion(ctx, "n", 1) }},
	}
	for _, op := range ops {
		if err := op.do(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		select {
		case <-s.Changes():
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no change notification", op.name)
		}
	}
	// A failed write notifies nothing.
	if _, err := s.CreateRegisteredModel(ctx, "n", "", nil); !mlflowerr.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v", err)
	}
	select {
	case <-s.Changes():
		t.Fatal("notification after a failed write")
	default:
	}
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustCreate(t, s, "m")
	// An invalid tag fails validation before anything is written.
	if _, err := s.CreateModelVersion(ctx, VersionSpec{Name: "m", Source: "x", Tags: map[string]string{"../bad": "v"}}); !mlflowerr.IsInvalid(err) {
		t.Fatalf("want invalid, got %v", err)
	}
	// Cancelled context: the transaction does not commit.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.CreateModelVersion(cctx, VersionSpec{Name: "m", Source: "x"}); err == nil {
		t.Fatal("create with cancelled context succeeded")
	}
	v, err := s.CreateModelVersion(ctx, VersionSpec{Name: "m", Source: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if v.Version != 1 {
		t.Fatalf("version = %d after failed writes, want 1", v.Version)
	}
}

func TestDownloadURIResolvesArtifactStore(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustCreate(t, s, "m")
	for _, src := range []string{"mlflow-artifacts:/m/abc", "s3://bucket/key"} {
		if _, err := s.CreateModelVersion(ctx, VersionSpec{Name: "m", Source: src}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.DownloadURI(ctx, model.VersionRef{Model: "m", Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	if want := "file://" + filepath.ToSlash(filepath.Join(s.ArtifactRoot(), "m", "abc")); got != want {
		t.Fatalf("DownloadURI = %q, want %q", got, want)
	}
	got, err = s.DownloadURI(ctx, model.VersionRef{Model: "m", Version: 2})
	if err != nil || got != "s3://bucket/key" {
		t.Fatalf("DownloadURI = %q, %v", got, err)
	}
	if _, err := ResolveSource(s.ArtifactRoot(), "mlflow-artifacts:/../etc"); !mlflowerr.IsInvalid(err) {
		t.Fatalf("escape: %v", err)
	}
}

func TestChangesFromAnotherProcessAreNoticed(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	watcher, err := Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	ch := watcher.Changes()
	// A second Store on the same file stands for another process.
	writer, err := Open(ctx, home)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close()
	if _, err := writer.CreateRegisteredModel(ctx, "m", "", nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(10 * PollInterval):
		t.Fatal("a change committed by another Store was not noticed")
	}
	// Own writes notify once, not again at the next poll.
	if _, err := watcher.CreateModelVersion(ctx, VersionSpec{Name: "m", Source: "x"}); err != nil {
		t.Fatal(err)
	}
	<-ch
	select {
	case <-ch:
		t.Fatal("own write notified twice")
	case <-time.After(3 * PollInterval):
	}
}

func TestVersionsCacheFollowsChanges(t *testing.T) {
	s, home := openTest(t)
	ctx := context.Background()
	other, err := Open(ctx, home) // another process sharing the file
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, m := range []string{"a", "b", "c"} {
		mustCreate(t, s, m)
		for i := 0; i < 3; i++ {
			if _, err := s.CreateModelVersion(ctx, VersionSpec{Name: m, Source: "x", Tags: map[string]string{"k": "1"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, err := s.Versions(ctx)
	if err != nil || len(first) != 9 {
		t.Fatalf("Versions = %v, %v", first, err)
	}
	first[0].Tags["k"] = "changed by the caller" // must not reach the cache
	first[0].Aliases = append(first[0].Aliases, "bogus")
	steps := []struct {
		name  string
		write func() error
	}{
		{"nothing", func() error { return nil }},
		{"tag here", func() error { return s.SetModelVersionTag(ctx, "a", 1, "k", "2") }},
		{"tag elsewhere", func() error { return other.SetModelVersionTag(ctx, "b", 2, "k", "3") }},
		{"untag elsewhere", func() error { return other.DeleteModelVersionTag(ctx, "b", 2, "k") }},
		{"version elsewhere", func() error { _, err := other.CreateModelVersion(ctx, VersionSpec{Name: "c", Source: "y"}); return err }},
		{"alias elsewhere", func() error { return other.SetAlias(ctx, "c", "champion", 4) }},
		{"alias moved", func() error { return s.SetAlias(ctx, "c", "champion", 1) }},
		{"transition", func() error { _, err := other.TransitionStage(ctx, "a", 2, "Production", true); return err }},
		{"describe", func() error { _, err := other.UpdateModelVersion(ctx, "b", 1, "about"); return err }},
		{"rename", func() error { _, err := other.RenameRegisteredModel(ctx, "b", "z"); return err }},
		{"delete version", func() error { return other.DeleteModelVersion(ctx, "a", 3) }},
		{"delete model", func() error { return other.DeleteRegisteredModel(ctx, "c") }},
		{"new model", func() error {
			if _, err := other.CreateRegisteredModel(ctx, "c", "", nil); err != nil {
				return err
			}
			_, err := other.CreateModelVersion(ctx, VersionSpec{Name: "c", Source: "new"})
			return err
		}},
		{"failed write", func() error {
			if _, err := other.CreateModelVersion(ctx, VersionSpec{Name: "missing", Source: "x"}); !mlflowerr.IsNotFound(err) {
				return fmt.Errorf("want not found, got %v", err)
			}
			return nil
		}},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, err := s.Versions(ctx)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		// The oracle: a full read by a store with nothing cached.
		fresh, err := Open(ctx, home)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fresh.Versions(ctx)
		fresh.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: cached Versions\n%+v\nwant\n%+v", st.name, got, want)
		}
	}
}

func TestVersionsRoundTripAwkwardValues(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	mustCreate(t, s, "mödel: 1,2")
	specs := []VersionSpec{
		{Name: "mödel: 1,2", Source: "s3://b/12:34,5", RunID: "", Description: "line1\nline2: 3:x", Tags: map[string]string{"a:b": "1:2,3", "empty": "", "ü": "ö"}},
		{Name: "mödel: 1,2", Source: "10:", RunID: "r:1", Description: ""},
		{Name: "mödel: 1,2", Source: ",", Tags: map[string]string{"k": strings.Repeat("9:", 100)}},
	}
	for _, sp := range specs {
		if _, err := s.CreateModelVersion(ctx, sp); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.TransitionStage(ctx, "mödel: 1,2", 2, "staging", false); err != nil {
		t.Fatal(err)
	}
	vs, err := s.Versions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(specs) {
		t.Fatalf("%d versions", len(vs))
	}
	for _, v := range vs {
		// GetModelVersion reads plain columns: the oracle for the packed read.
		want, err := s.GetModelVersion(ctx, v.Name, v.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(v, want.ModelVersion) {
			t.Errorf("version %d:\n got %#v\nwant %#v", v.Version, v, want.ModelVersion)
		}
	}
}

func TestPackedReaderRejectsMalformedRows(t *testing.T) {
	for _, row := range []string{"", "x,", "1,2,", "1,", "1,2,5:abc", "1,2,-1:", "1,2,a:b"} {
		p := packedReader{s: row}
		p.int()
		p.int()
		p.str()
		if p.err == nil {
			t.Errorf("row %q accepted", row)
		}
	}
	p := packedReader{s: "7,3,2:ab0:rest"}
	if a, b, c, d, e := p.int(), p.int(), p.str(), p.str(), p.rest(); p.err != nil || a != 7 || b != 3 || c != "ab" || d != "" || e != "rest" {
		t.Fatalf("got %v %v %q %q %q %v", a, b, c, d, e, p.err)
	}
}

// Two Stores on one file stand for two processes (bridge registry serve and
// bridge run): their writers contend through SQLite's lock, not the Go mutex.
func TestConcurrentWritersAcrossStores(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	var stores []*Store
	for i := 0; i < 2; i++ {
		s, err := Open(ctx, home)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	mustCreate(t, stores[0], "m")
	const perStore, each = 4, 100
	var wg sync.WaitGroup
	got := make(chan int, 2*perStore*each)
	errs := make(chan error, 2*perStore)
	for _, s := range stores {
		for w := 0; w < perStore; w++ {
			wg.Add(1)
			go func(s *Store) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					v, err := s.CreateModelVersion(ctx, VersionSpec{Name: "m", Source: "x"})
					if err != nil {
						errs <- err
						return
					}
					got <- v.Version
				}
			}(s)
		}
	}
	wg.Wait()
	close(got)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for v := range got {
		if seen[v] {
			t.Fatalf("version %d assigned twice", v)
		}
		seen[v] = true
	}
	if len(seen) != 2*perStore*each {
		t.Fatalf("%d distinct versions, want %d", len(seen), 2*perStore*each)
	}
	vs, err := stores[1].Versions(ctx)
	if err != nil || len(vs) != 2*perStore*each {
		t.Fatalf("Versions: %d, %v", len(vs), err)
	}
}
