package ui

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bridgeops/bridge/internal/model"
	"github.com/bridgeops/bridge/internal/tsdb"
)

// sourceTimeout bounds one read of a data source while a page renders:
// a source that does not answer becomes a banner.
const sourceTimeout = 3 * time.Second

func (u *UI) snapshot(ctx context.Context, b *banners) Snapshot {
	if u.o.Status == nil {
		return Snapshot{}
	}
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	s, err := u.o.Status.Snapshot(ctx)
	if err != nil {
		b.add("Serving status unavailable: %v", err)
	}
	return s
}

func (u *UI) versions(ctx context.Context, b *banners) ([]model.ModelVersion, bool) {
	if u.o.Registry == nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, sourceTimeout)
	defer cancel()
	vs, err := u.o.Registry.Versions(ctx)
	if err != nil {
		b.add("Registry unavailable: %v. Showing what the deploy target serves.", err)
		return nil, false
	}
	return vs, true
}

// overviewRow is one endpoint on the overview.
type overviewRow struct {
	Endpoint
	ModelRows int // >0 on the first row of a model: its row span
	Weights   string
	Curl      string
	ReqRate   float64
	ErrRate   float64
	P50, P99  float64
	Spark     [4]spark // req/s, error rate, p50, p99
}

type overviewData struct {
	Rows       []overviewRow
	Total      int
	Shown      int
	Page, Last int
	Query      string
	Prev, Next string
	LastPass   *Pass
	Target     string
	Source     string
	Models     int
	Versions   int
	Unserved   []unserved // models with versions but no endpoint
	RegistryOK bool
	Changes    []tsdb.EndpointEvent // the newest route changes
}

func (u *UI) overview(w http.ResponseWriter, r *http.Request) {
	b := &banners{}
	snap := u.snapshot(r.Context(), b)
	vs, regOK := u.versions(r.Context(), b)
	d := overviewData{LastPass: snap.LastPass, Target: snap.Target, Source: snap.Source, RegistryOK: regOK, Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	served := map[string]bool{}
	for _, e := range snap.Endpoints {
		served[e.Model] = true
	}
	models := map[string]bool{}
	unservedAt := map[string]int{}
	for _, v := range vs {
		models[v.Name] = true
		if served[v.Name] || v.Stage == model.StageArchived && len(v.Aliases) == 0 || d.Query != "" && !strings.Contains(v.Name, d.Query) {
			continue
		}
		i, ok := unservedAt[v.Name]
		if !ok {
			i = len(d.Unserved)
			unservedAt[v.Name] = i
			d.Unserved = append(d.Unserved, unserved{Name: v.Name})
		}
		d.Unserved[i].note(v)
	}
	for i := range d.Unserved {
		u := &d.Unserved[i]
		if why, ok := failedOf(snap.LastPass, u.Name); ok && u.Error == "" {
			u.State, u.Error = model.StateFailed, why
		}
	}
	sort.Slice(d.Unserved, func(i, j int) bool { return d.Unserved[i].Name < d.Unserved[j].Name })
	d.Models, d.Versions = len(models), len(vs)

	eps := snap.Endpoints
	if d.Query != "" {
		var f []Endpoint
		for _, e := range eps {
			if strings.Contains(e.Model, d.Query) || strings.Contains(e.Slot, d.Query) {
				f = append(f, e)
			}
		}
		eps = f
	}
	d.Total = len(eps)
	d.Last = max(1, (len(eps)+u.o.PageSize-1)/u.o.PageSize)
	d.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	d.Page = min(max(d.Page, 1), d.Last)
	lo := (d.Page - 1) * u.o.PageSize
	hi := min(lo+u.o.PageSize, len(eps))
	now := u.o.Now()
	for i := lo; i < hi; i++ {
		e := eps[i]
		row := overviewRow{Endpoint: e, Weights: weights(e.Versions), Curl: curlFor(e.URL)}
		if i == lo || eps[i-1].Model != e.Model {
			n := 1
			for j := i + 1; j < hi && eps[j].Model == e.Model; j++ {
				n++
			}
			row.ModelRows = n
		}
		if u.o.Series != nil {
			pts, _ := u.o.Series.Series(tsdb.Key{Model: e.Model, Slot: e.Slot}, tsdb.Hour)
			row.fillStats(pts, now)
		} else {
			row.ReqRate, row.ErrRate, row.P50, row.P99 = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		}
		d.Rows = append(d.Rows, row)
	}
	d.Shown = len(d.Rows)
	if u.o.Series != nil {
		d.Changes = u.o.Series.Recent(5)
	}
	link := func(p int) string {
		q := url.Values{}
		if d.Query != "" {
			q.Set("q", d.Query)
		}
		q.Set("page", strconv.Itoa(p))
		return u.o.Prefix + "/?" + q.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if d.Page < d.Last {
		d.Next = link(d.Page + 1)
	}
	u.render(w, r, "overview", "Overview", d, b)
}

// unserved is a model with versions to serve and no endpoint, with why
// when Bridge knows: its versions' deploy tags, or the last pass.
type unserved struct {
	Name         string
	State, Error string
}

// note takes a version's deploy state; a failure wins over other states.
func (u *unserved) note(v model.ModelVersion) {
	st := v.Tags[model.TagDeployState]
	if st == "" || u.State == model.StateFailed {
		return
	}
	u.State = st
	u.Error = v.Tags[model.TagDeployError]
}

func failedOf(p *Pass, name string) (string, bool) {
	if p == nil {
		return "", false
	}
	why, ok := p.Failed[name]
	return why, ok
}

// fillStats sets the row's figures (last full minute, else the open one)
// and sparklines from an hour of minute points.
func (row *overviewRow) fillStats(pts []tsdb.Point, now time.Time) {
	row.ReqRate, row.ErrRate, row.P50, row.P99 = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(pts) == 0 {
		return
	}
	req := make([]float64, len(pts))
	errRate := make([]float64, len(pts))
	p50 := make([]float64, len(pts))
	p99 := make([]float64, len(pts))
	for i, p := range pts {
		req[i] = rate(p, now, time.Minute)
		errRate[i] = math.NaN()
		if p.Requests > 0 {
			errRate[i] = p.Errors / p.Requests
		}
		p50[i], p99[i] = p.P50, p.P99
	}
	last := len(pts) - 1
	if last > 0 && now.Sub(pts[last].T) < 20*time.Second {
		last-- // the open minute has too few seconds to say much
	}
	row.ReqRate, row.ErrRate, row.P50, row.P99 = req[last], errRate[last], p50[last], p99[last]
	if math.IsNaN(row.ErrRate) && row.ReqRate == 0 {
		row.ErrRate = 0
	}
	ts := make([]time.Time, len(pts))
	for i, p := range pts {
		ts[i] = p.T
	}
	// An hour, or less when the history is shorter.
	from := now.Add(-time.Hour)
	if first := pts[0].T.Add(-time.Minute); first.After(from) {
		from = first
	}
	row.Spark = [4]spark{sparkline(ts, req, from, now, false), sparkline(ts, errRate, from, now, false), sparkline(ts, p50, from, now, true), sparkline(ts, p99, from, now, true)}
}

// rate is a point's requests per second: over its step, or over the
// seconds elapsed for the interval still open.
func rate(p tsdb.Point, now time.Time, step time.Duration) float64 {
	d := step
	if el := now.Sub(p.T); el < step && el > 0 {
		d = max(el, time.Second)
	}
	return p.Requests / d.Seconds()
}

func weights(vs []model.WeightedVersion) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = "v" + strconv.Itoa(v.Version) + " " + strconv.FormatFloat(v.Weight*100, 'f', -1, 64) + "%"
	}
	return strings.Join(parts, ", ")
}

// curlFor is a ready-to-paste invocation of an endpoint URL.
func curlFor(u string) string {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return ""
	}
	return "curl -s '" + strings.ReplaceAll(u, "'", `'\''`) + "' -H 'Content-Type: application/json' -d '{\"inputs\": [[...]]}'"
}

// endpointData is the endpoint page.
type endpointData struct {
	Endpoint
	Found    bool
	Range    string
	Ranges   []string
	Charts   []chart
	Events   []tsdb.Event
	Captures []Captured
	CapErr   string
	Curl     string
	Weights  string
}

func (u *UI) endpoint(w http.ResponseWriter, r *http.Request) {
	b := &banners{}
	m, s := r.PathValue("model"), r.PathValue("slot")
	rg := tsdb.Range(r.URL.Query().Get("range"))
	if rg == "" {
		rg = tsdb.Hour
	}
	if rg != tsdb.Hour && rg != tsdb.Day && rg != tsdb.Week {
		b.add("Range %q is not one of hour, day, week: showing the last hour.", string(rg))
		rg = tsdb.Hour
	}
	snap := u.snapshot(r.Context(), b)
	d := endpointData{Endpoint: Endpoint{Model: m, Slot: s}, Range: string(rg), Ranges: []string{"hour", "day", "week"}}
	for _, e := range snap.Endpoints {
		if e.Model == m && e.Slot == s {
			d.Endpoint, d.Found = e, true
		}
	}
	d.Curl, d.Weights = curlFor(d.URL), weights(d.Versions)
	if u.o.Series != nil {
		d.Events = u.o.Series.Events(m, s)
		d.Charts = endpointCharts(u.o.Series, m, s, rg, d.Events, u.o.Now())
	}
	if u.o.Captures != nil && d.Name != "" {
		ctx, cancel := context.WithTimeout(r.Context(), sourceTimeout)
		caps, err := u.o.Captures.Recent(ctx, d.Name, 10)
		cancel()
		if err != nil {
			d.CapErr = err.Error()
		}
		d.Captures = caps
	}
	for _, c := range d.Captures {
		if c.Input != "" && !strings.HasSuffix(c.Input, " …") && strings.HasPrefix(d.URL, "http") {
			ct := c.InputContentType
			if ct == "" {
				ct = "application/json"
			}
			d.Curl = "curl -s '" + strings.ReplaceAll(d.URL, "'", `'\''`) + "' -H 'Content-Type: " + strings.ReplaceAll(ct, "'", "") + "' --data-binary '" + strings.ReplaceAll(c.Input, "'", `'\''`) + "'"
			break
		}
	}
	for i, j := 0, len(d.Events)-1; i < j; i, j = i+1, j-1 {
		d.Events[i], d.Events[j] = d.Events[j], d.Events[i]
	}
	points := 0
	for _, c := range d.Charts {
		points += c.Points
	}
	if !d.Found && points == 0 {
		w = withStatus(w, http.StatusNotFound)
	}
	u.render(w, r, "endpoint", m+"/"+s, d, b)
}

// modelData is the model page.
type modelData struct {
	Name      string
	Versions  []versionRow
	Endpoints []Endpoint
	History   []historyItem
	Done      string
	Known     bool
}

type versionRow struct {
	model.ModelVersion
	Metrics   []kv
	Other     []kv
	Deploy    string
	DeployErr string
	Approval  string // ModelApprovalStatus, "" when none
	Approved  bool
}

// approvalOf is a version's approval status: the approval tag, else the
// tag earlier dashboards set.
func approvalOf(tags map[string]string) string {
	if s := tags[ApprovalTag]; s != "" {
		return s
	}
	return tags[legacyApprovalTag]
}

type kv struct{ K, V string }

type historyItem struct {
	T    time.Time
	Text string
}

func (u *UI) modelPage(w http.ResponseWriter, r *http.Request) {
	b := &banners{}
	name := r.PathValue("model")
	snap := u.snapshot(r.Context(), b)
	vs, _ := u.versions(r.Context(), b)
	d := modelData{Name: name, Done: r.URL.Query().Get("done")}
	for _, v := range vs {
		if v.Name != name {
			continue
		}
		d.Known = true
		row := versionRow{ModelVersion: v, Deploy: v.Tags[model.TagDeployState], DeployErr: v.Tags[model.TagDeployError], Approval: approvalOf(v.Tags)}
		row.Approved = row.Approval == approvedValue
		keys := make([]string, 0, len(v.Tags))
		for k := range v.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			val := v.Tags[k]
			switch {
			case strings.HasPrefix(k, "bridge_deploy_"), k == ApprovalTag, k == legacyApprovalTag:
			case isMetricTag(k, val):
				row.Metrics = append(row.Metrics, kv{strings.TrimPrefix(strings.TrimPrefix(k, "metrics."), "metric."), val})
			default:
				row.Other = append(row.Other, kv{k, val})
			}
		}
		d.Versions = append(d.Versions, row)
		d.History = append(d.History, historyItem{v.Created, "version " + strconv.Itoa(v.Version) + " registered"})
	}
	sort.Slice(d.Versions, func(i, j int) bool { return d.Versions[i].Version > d.Versions[j].Version })
	for _, e := range snap.Endpoints {
		if e.Model != name {
			continue
		}
		d.Known = true
		d.Endpoints = append(d.Endpoints, e)
	}
	if u.o.Series != nil {
		for _, ev := range u.o.Series.ModelEvents(name) {
			d.Known = true
			d.History = append(d.History, historyItem{ev.T, ev.Slot + ": " + ev.Text})
		}
	}
	sort.SliceStable(d.History, func(i, j int) bool { return d.History[i].T.After(d.History[j].T) })
	if !d.Known && len(b.list) == 0 {
		w = withStatus(w, http.StatusNotFound)
	}
	u.render(w, r, "model", name, d, b)
}

// isMetricTag says whether a version tag holds a training metric: keys
// metric.* / metrics.*, or a numeric value under a key that is not an id.
func isMetricTag(k, v string) bool {
	if strings.HasPrefix(k, "metric.") || strings.HasPrefix(k, "metrics.") {
		return true
	}
	if strings.HasPrefix(k, "mlflow.") || strings.HasSuffix(k, "_id") || strings.HasSuffix(k, "version") {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}
