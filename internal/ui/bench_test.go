package ui

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkOverview1000Endpoints renders the overview server-side with
// 1,000 endpoints (1,000 models, each with an hour of time series and a
// registry version) and reports the page weight: the HTML plus the CSS and
// JavaScript it loads (uPlot included).
func BenchmarkOverview1000Endpoints(b *testing.B) {
	o, _ := testSetup(b, 1000)
	h := New(o)
	req := httptest.NewRequest(http.MethodGet, "/ui/", nil)
	var html int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 || !strings.Contains(w.Body.String(), "page 1 of 20") {
			b.Fatalf("overview: %d", w.Code)
		}
		html = w.Body.Len()
	}
	b.StopTimer()
	assets := 0
	for _, p := range []string{"static/app.css", "static/app.js", "static/vendor/uPlot.iife.min.js", "static/vendor/uPlot.min.css"} {
		data, err := fs.ReadFile(staticFS, p)
		if err != nil {
			b.Fatal(err)
		}
		assets += len(data)
	}
	b.ReportMetric(float64(html)/1024, "html-KB")
	b.ReportMetric(float64(html+assets)/1024, "page-KB")
}
