// Package capture records what endpoints receive and answer, in SageMaker's
// data-capture format, for the monitor.
package capture

import "time"

// Record is one captured invocation.
type Record struct {
	Endpoint          string // brdg-<model>-<slot>
	Variant           string // the version that answered, e.g. "v3"
	EventID           string
	InferenceID       string // X-Amzn-SageMaker-Inference-Id, if the client sent one
	Time              time.Time
	InputContentType  string
	Input             []byte
	OutputContentType string
	Output            []byte
}

// Sink receives captured invocations. Capture must never block or fail an
// invocation: implementations queue and drop (counting) when full.
type Sink interface {
	// Want reports, cheaply, whether this invocation of endpoint is to be
	// captured (capture on/off, sampling) and which halves of it.
	Want(endpoint string) (input, output bool)
	// Capture queues a record; it never blocks.
	Capture(r Record)
}
