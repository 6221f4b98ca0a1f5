package sagemaker

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/promreg"
)

// callMetrics counts the target's AWS calls: per service, operation and
// outcome (ok or the AWS error code, after the SDK's retries), and their
// duration including retries.
type callMetrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newCallMetrics(reg *prometheus.Registry) (*callMetrics, error) {
	m := &callMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_sagemaker_aws_calls_total",
			Help: "AWS API calls of the SageMaker target by service, operation and outcome (ok or the error code, after retries).",
		}, []string{"service", "operation", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bridge_sagemaker_aws_call_duration_seconds",
			Help:    "Duration of AWS API calls of the SageMaker target, retries included.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"service", "operation"}),
	}
	if reg == nil {
		return m, nil
	}
	// A second target on the same registry (tests, re-opened targets)
	// counts into the collectors already there.
	var err error
	if m.calls, err = promreg.Register(reg, m.calls); err != nil {
		return nil, err
	}
	if m.duration, err = promreg.Register(reg, m.duration); err != nil {
		return nil, err
	}
	return m, nil
}

// apiOption adds the counting middleware to a client's stack; it runs once
// per operation, around the SDK's retries.
func (m *callMetrics) apiOption(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("BridgeCallMetrics",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			svc, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
			outcome := "ok"
			if err != nil {
				if outcome = apiCode(err); outcome == "" {
					outcome = "error"
				}
			}
			m.calls.WithLabelValues(svc, op, outcome).Inc()
			m.duration.WithLabelValues(svc, op).Observe(time.Since(start).Seconds())
			return out, md, err
		}), middleware.Before)
}
