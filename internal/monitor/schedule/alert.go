package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/promreg"
)

// Alert is the JSON body posted to BRIDGE_ALERT_WEBHOOK when an execution
// finds violations.
type Alert struct {
	Schedule       string             `json:"schedule"`
	Endpoint       string             `json:"endpoint"`
	Type           string             `json:"type"`
	Status         string             `json:"status"`
	ExecutionID    int64              `json:"execution_id"`
	WindowStart    time.Time          `json:"window_start"`
	WindowEnd      time.Time          `json:"window_end"`
	Violations     []AlertViolation   `json:"violations"`
	Metrics        map[string]float64 `json:"metrics,omitempty"`
	ViolationsPath string             `json:"violations_path"`
	StatisticsPath string             `json:"statistics_path"`
}

// AlertViolation is one violation in an alert.
type AlertViolation struct {
	Feature     string `json:"feature_name,omitempty"`
	Metric      string `json:"metric_name,omitempty"`
	Check       string `json:"constraint_check_type"`
	Description string `json:"description"`
}

// Alerter posts alerts in the background, retrying with exponential
// backoff, so a slow or failing webhook never delays a schedule. When its
// queue is full, alerts are dropped and counted.
type Alerter struct {
	URL         string
	Client      *http.Client
	MaxAttempts int           // default 5
	Backoff     time.Duration // first retry delay, doubled each time (default 1s)
	Log         *slog.Logger

	queue chan Alert
	wg    sync.WaitGroup
	stop  chan struct{}
	once  sync.Once
	sent  *prometheus.CounterVec
}

// NewAlerter starts an alerter posting to url. Stop it with Close.
func NewAlerter(url string, reg prometheus.Registerer) *Alerter {
	a := &Alerter{URL: url, Client: &http.Client{Timeout: 10 * time.Second}, MaxAttempts: 5, Backoff: time.Second,
		Log: slog.Default(), queue: make(chan Alert, 100), stop: make(chan struct{}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bridge_monitor_alerts_total",
			Help: "Violation alerts by outcome: sent, failed (after retries) or dropped (queue full)."}, []string{"outcome"}),
	}
	if reg != nil {
		a.sent = promreg.MustRegister(reg, a.sent)
	}
	a.wg.Add(1)
	go a.run()
	return a
}

// Send queues an alert without blocking.
func (a *Alerter) Send(al Alert) {
	select {
	case a.queue <- al:
	default:
		a.sent.WithLabelValues("dropped").Inc()
		a.Log.Warn("alert queue full; alert dropped", "schedule", al.Schedule)
	}
}

// Close stops the alerter after the queued alerts are delivered or given
// up on, or when ctx ends.
func (a *Alerter) Close(ctx context.Context) error {
	a.once.Do(func() { close(a.stop) })
	done := make(chan struct{})
	go func() { a.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *Alerter) run() {
	defer a.wg.Done()
	for {
		select {
		case al := <-a.queue:
			a.deliver(al)
		case <-a.stop:
			for {
				select {
				case al := <-a.queue:
					a.deliver(al)
				default:
					return
				}
			}
		}
	}
}

func (a *Alerter) deliver(al Alert) {
	body, err := json.Marshal(al)
	if err != nil {
		a.sent.WithLabelValues("failed").Inc()
		return
	}
	delay := a.Backoff
	for attempt := 1; ; attempt++ {
		err := a.post(body)
		if err == nil {
			a.sent.WithLabelValues("sent").Inc()
			return
		}
		if attempt >= a.MaxAttempts || !retryable(err) {
			a.sent.WithLabelValues("failed").Inc()
			a.Log.Error("alert webhook failed", "schedule", al.Schedule, "attempts", attempt, "err", err)
			return
		}
		select {
		case <-time.After(delay):
		case <-a.stop:
			// keep retrying while stopping, but without waiting long
			delay = min(delay, 100*time.Millisecond)
		}
		delay *= 2
	}
}

type statusError struct{ code int }

func (e statusError) Error() string { return fmt.Sprintf("webhook answered HTTP %d", e.code) }

func retryable(err error) bool {
	if se, ok := err.(statusError); ok {
		return se.code >= 500 || se.code == http.StatusTooManyRequests || se.code == http.StatusRequestTimeout
	}
	return true // network errors
}

func (a *Alerter) post(body []byte) error {
	req, err := http.NewRequest(http.MethodPost, a.URL, bytes.NewReader(body))
	if err != nil {
		return statusError{400}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "bridge-monitor")
	resp, err := a.Client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return statusError{resp.StatusCode}
	}
	return nil
}
