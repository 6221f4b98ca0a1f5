package bridgeapp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/tsdb"
)

func TestOpenSeriesMovesUnreadableFileAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "timeseries.gob")
	os.WriteFile(path, []byte("garbage"), 0o644)
	db, err := OpenSeries(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Add(time.Now(), tsdb.Key{Model: "m", Slot: "Latest", Version: "1"}, tsdb.Sample{Requests: 1})
	if err := db.Flush(); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(path + ".unreadable-*")
	if len(matches) != 1 {
		t.Fatalf("unreadable file not kept aside: %v", matches)
	}
	if b, _ := os.ReadFile(matches[0]); string(b) != "garbage" {
		t.Fatal("the kept file changed")
	}
	if _, err := tsdb.Open(tsdb.Options{Path: path}); err != nil {
		t.Fatalf("new file unreadable: %v", err)
	}
}

func TestRouteTrackerRecordsPromotions(t *testing.T) {
	db, _ := tsdb.Open(tsdb.Options{})
	key := model.EndpointKey{Model: "iris", Slot: "Production"}
	ep := func(st model.Status, vs ...model.WeightedVersion) model.Actual {
		return model.Actual{Endpoints: []model.ActualEndpoint{{Key: key, Status: st, Versions: vs}}}
	}
	t0 := time.Now()
	steps := []struct {
		actual model.Actual
		want   string // newest event text after the step; "" none yet
		events int
	}{
		{ep(model.StatusPending, model.WeightedVersion{Version: 1, Weight: 1}), "", 0},
		{ep(model.StatusReady, model.WeightedVersion{Version: 1, Weight: 1}), "serving v1", 1},
		{ep(model.StatusReady, model.WeightedVersion{Version: 1, Weight: 1}), "serving v1", 1},
		{ep(model.StatusReady, model.WeightedVersion{Version: 1, Weight: 0.5}, model.WeightedVersion{Version: 2, Weight: 0.5}), "v1 → v1 50%, v2 50%", 2},
		{ep(model.StatusReady, model.WeightedVersion{Version: 2, Weight: 1}), "v1 50%, v2 50% → v2", 3},
	}
	tr := &routeTracker{db: db, seen: map[model.EndpointKey]string{}}
	for i, st := range steps {
		tr.observe(st.actual, t0.Add(time.Duration(i)*time.Second))
		ev := db.Events("iris", "Production")
		if len(ev) != st.events || (st.events > 0 && ev[len(ev)-1].Text != st.want) {
			t.Fatalf("step %d: events %+v, want %d ending %q", i, ev, st.events, st.want)
		}
	}
	tr.observe(model.Actual{}, t0.Add(10*time.Second))
	if ev := db.Events("iris", "Production"); len(ev) != 4 || ev[3].Text != "removed (was v2)" {
		t.Fatalf("removal: %+v", ev)
	}
	tr.observe(ep(model.StatusReady, model.WeightedVersion{Version: 2, Weight: 1}), t0.Add(11*time.Second))
	if ev := db.Events("iris", "Production"); len(ev) != 5 || ev[4].Text != "serving v2" {
		t.Fatalf("served again: %+v", ev)
	}
	// A restarted process compares with the stored state.
	tr2 := &routeTracker{db: db, seen: map[model.EndpointKey]string{}}
	tr2.observe(ep(model.StatusReady, model.WeightedVersion{Version: 2, Weight: 1}), t0.Add(time.Minute))
	tr2.observe(ep(model.StatusReady, model.WeightedVersion{Version: 3, Weight: 1}), t0.Add(2*time.Minute))
	ev := db.Events("iris", "Production")
	if len(ev) != 6 || !strings.HasPrefix(ev[5].Text, "v2 → v3") {
		t.Fatalf("after restart: %+v", ev)
	}
}
