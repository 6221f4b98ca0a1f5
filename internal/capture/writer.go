package capture

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	crand "crypto/rand"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bridgeops/bridge/internal/promreg"
)

// WriterConfig configures a Writer.
type WriterConfig struct {
	// Root is the capture directory: files go to
	// <Root>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm>-<ss>-<mmm>-<id>.jsonl.
	Root string
	// Default applies to endpoints without an override.
	Default EndpointConfig
	// Endpoints overrides Default per endpoint name.
	Endpoints map[string]EndpointConfig
	// QueueSize bounds the records waiting to be written (default 8192);
	// records beyond it are dropped and counted.
	QueueSize int
	// FlushInterval is how often buffered lines reach the file (default 1s):
	// a crash loses at most this much.
	FlushInterval time.Duration
	// MaxFileBytes rotates a file past this size (default 64 MiB).
	MaxFileBytes int64
	// Metrics registers the capture metrics; nil means unregistered.
	Metrics prometheus.Registerer
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Writer is the capture.Sink that writes SageMaker capture files. Capture
// never blocks: records go to a bounded queue that one goroutine drains
// every 10 ms;
// when the queue is full the record is dropped and counted. Lines are
// encoded straight into a per-file buffer written in chunks of up to
// writeChunk bytes into preallocated blocks; files are flushed every
// FlushInterval, and fsynced and closed when they rotate (hour change or
// size) and on Close.
type Writer struct {
	cfg    WriterConfig
	queue  chan Record
	closed atomic.Bool
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	log    *slog.Logger

	captured *prometheus.CounterVec
	dropped  *prometheus.CounterVec
	bytes    prometheus.Counter
	errs     prometheus.Counter
	files    prometheus.Counter

	// endpoints whose metric series exist (so /metrics shows zero drops)
	seen sync.Map

	// owned by the writer goroutine
	counts       map[string]*endpointCount
	pendingBytes int64 // written since the last publish
	last         lastFile
	open         map[string]*file
	lastErr      time.Time
	ids          eventIDs
}

// endpointCount counts an endpoint's records written since the last
// publish: metrics are updated once per drain, not once per record.
type endpointCount struct {
	c prometheus.Counter
	n int
}

// lastFile remembers the previous record's file.
type lastFile struct {
	endpoint, variant string
	hour              time.Time
	key               string
	f                 *file
	count             *endpointCount
}

type file struct {
	f *os.File
	// buf holds the lines not written to f yet (bufRecords of them).
	buf        []byte
	bufRecords int
	size       int64 // bytes of lines, written or buffered
	reserved   int64 // end of the blocks preallocated so far
	hour       time.Time
	path       string
	// closed is set by closeFile, so that a reference to the file (the
	// previous record's) can tell it is no longer in use.
	closed bool
}

// NewWriter starts a capture writer. Close it to flush and stop.
func NewWriter(cfg WriterConfig) (*Writer, error) {
	w, err := newWriter(cfg)
	if err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

func newWriter(cfg WriterConfig) (*Writer, error) {
	if cfg.Root == "" {
		return nil, errors.New("capture writer: no capture directory: set --capture-dir or BRIDGE_CAPTURE_DIR")
	}
	if err := os.MkdirAll(cfg.Root, 0o755); err != nil {
		return nil, fmt.Errorf("capture writer: create %s: %w", cfg.Root, err)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 8192
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = time.Second
	}
	if cfg.MaxFileBytes <= 0 {
		cfg.MaxFileBytes = 64 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	w := &Writer{
		cfg:    cfg,
		queue:  make(chan Record, cfg.QueueSize),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		log:    cfg.Logger,
		open:   map[string]*file{},
		counts: map[string]*endpointCount{},
		captured: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_capture_records_total", Help: "Invocations written to capture files, by endpoint.",
		}, []string{"endpoint"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_capture_dropped_total", Help: "Captured invocations dropped because the capture queue was full or capture was closing, by endpoint.",
		}, []string{"endpoint"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "bridge_capture_bytes_total", Help: "Bytes written to capture files."}),
		errs:  prometheus.NewCounter(prometheus.CounterOpts{Name: "bridge_capture_write_errors_total", Help: "Capture records lost to file-system errors."}),
		files: prometheus.NewCounter(prometheus.CounterOpts{Name: "bridge_capture_files_total", Help: "Capture files opened."}),
	}
	if cfg.Metrics != nil {
		w.captured = promreg.MustRegister(cfg.Metrics, w.captured)
		w.dropped = promreg.MustRegister(cfg.Metrics, w.dropped)
		w.bytes = promreg.MustRegister(cfg.Metrics, w.bytes)
		w.errs = promreg.MustRegister(cfg.Metrics, w.errs)
		w.files = promreg.MustRegister(cfg.Metrics, w.files)
		qlen := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bridge_capture_queue_length", Help: "Captured invocations waiting to be written."},
			func() float64 { return float64(len(w.queue)) })
		if err := cfg.Metrics.Register(qlen); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return nil, fmt.Errorf("capture writer metrics: %w", err)
			}
		}
	}
	return w, nil
}

// Want reports whether to capture this invocation of endpoint, and which
// halves: the endpoint's setting, then a sampling draw.
func (w *Writer) Want(endpoint string) (input, output bool) {
	if _, ok := w.seen.Load(endpoint); !ok {
		w.seen.Store(endpoint, struct{}{})
		w.captured.WithLabelValues(endpoint)
		w.dropped.WithLabelValues(endpoint)
	}
	c, ok := w.cfg.Endpoints[endpoint]
	if !ok {
		c = w.cfg.Default
	}
	if !c.Enabled || (!c.Input && !c.Output) || c.SamplingPercent <= 0 {
		return false, false
	}
	if c.SamplingPercent < 100 && rand.Float64()*100 >= c.SamplingPercent {
		return false, false
	}
	return c.Input, c.Output
}

// Capture queues r without blocking; a full queue drops it (counted in
// bridge_capture_dropped_total), as does a closed writer. r's byte slices
// must not be modified after the call. Missing EventID and Time are filled
// in.
func (w *Writer) Capture(r Record) {
	if w.closed.Load() {
		w.dropped.WithLabelValues(r.Endpoint).Inc()
		return
	}
	select {
	case w.queue <- r:
	default:
		w.dropped.WithLabelValues(r.Endpoint).Inc()
	}
}

// Close stops accepting records, writes those queued, and fsyncs and
// closes every file. It returns when done or when ctx ends.
func (w *Writer) Close(ctx context.Context) error {
	w.once.Do(func() {
		w.closed.Store(true)
		close(w.stop)
	})
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close capture writer: %w", ctx.Err())
	}
}

// drainInterval is how often the writer empties the queue. Draining on a
// timer rather than waking for every record keeps the cost of capture on
// the request path to one channel send: at high request rates a wake-up
// per record costs more than writing the record. The queue holds
// QueueSize/drainInterval records per second (819,200 with the defaults).
const drainInterval = 10 * time.Millisecond

func (w *Writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.cfg.FlushInterval)
	defer tick.Stop()
	drain := time.NewTicker(drainInterval)
	defer drain.Stop()
	for {
		select {
		case <-drain.C:
			w.drain()
		case now := <-tick.C:
			w.drain()
			w.flushAll(now)
		case <-w.stop:
			for {
				select {
				case r := <-w.queue:
					w.write(&r)
				default:
					w.publish()
					w.closeAll()
					return
				}
			}
		}
	}
}

// safeName keeps a path element free of separators and dot-dot.
func safeName(s, def string) string {
	if s == "" {
		return def
	}
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r < 0x20 {
			return '_'
		}
		return r
	}, s)
	if s == "." || s == ".." {
		return "_"
	}
	return s
}

// DefaultVariant is the variant directory of records without a variant
// (SageMaker's default production variant name).
const DefaultVariant = "AllTraffic"

// drain writes the records queued now, then updates the metrics.
func (w *Writer) drain() {
	for n := len(w.queue); n > 0; n-- {
		r := <-w.queue
		w.write(&r)
	}
	w.publish()
}

// publish adds the records and bytes written since the last publish to
// the metrics.
func (w *Writer) publish() {
	if w.pendingBytes == 0 {
		return
	}
	w.bytes.Add(float64(w.pendingBytes))
	w.pendingBytes = 0
	for _, c := range w.counts {
		if c.n > 0 {
			c.c.Add(float64(c.n))
			c.n = 0
		}
	}
}

func (w *Writer) write(r *Record) {
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if r.EventID == "" {
		r.EventID = w.ids.next()
	}
	hour := r.Time.UTC().Truncate(time.Hour)
	var f *file
	var count *endpointCount
	var key, endpoint, variant string
	if l := &w.last; l.f != nil && !l.f.closed && l.endpoint == r.Endpoint && l.variant == r.Variant && l.hour.Equal(hour) {
		// Same file as the previous record: skip building its key.
		f, key, count = l.f, l.key, l.count
	} else {
		endpoint = safeName(r.Endpoint, "unknown")
		variant = safeName(r.Variant, DefaultVariant)
		key = endpoint + "\x00" + variant + "\x00" + hour.Format("2006010215")
		f = w.open[key]
	}
	if f != nil && f.size >= w.cfg.MaxFileBytes {
		w.closeFile(key, f)
		f = nil
	}
	if f == nil {
		if endpoint == "" {
			endpoint = safeName(r.Endpoint, "unknown")
			variant = safeName(r.Variant, DefaultVariant)
		}
		var err error
		f, err = w.openFile(endpoint, variant, hour, r.Time.UTC())
		if err != nil {
			w.fail(1, err)
			return
		}
		w.open[key] = f
	}
	if count == nil {
		count = w.counts[r.Endpoint]
		if count == nil {
			count = &endpointCount{c: w.captured.WithLabelValues(r.Endpoint)}
			w.counts[r.Endpoint] = count
		}
	}
	w.last = lastFile{endpoint: r.Endpoint, variant: r.Variant, hour: hour, key: key, f: f, count: count}
	n := len(f.buf)
	f.buf = AppendLine(f.buf, r)
	n = len(f.buf) - n
	f.bufRecords++
	f.size += int64(n)
	w.pendingBytes += int64(n)
	count.n++
	if len(f.buf) >= writeChunk {
		w.flushFile(f)
	}
}

// writeChunk is how many bytes of lines a file buffers before writing
// them: one write(2) per writeChunk bytes. Most of a write's cost is the
// kernel copying the lines into the page cache, and that copy is cheapest
// while the lines just encoded are still in the CPU's cache: 1 MiB chunks
// cost twice as much per byte as 64 KiB ones on a loaded machine.
// preallocChunk is how far ahead a file's blocks are reserved.
const (
	writeChunk    = 64 << 10
	preallocChunk = 4 << 20
)

// flushFile writes f's buffered lines. A failed write loses them (counted
// in bridge_capture_write_errors_total, one per record).
func (w *Writer) flushFile(f *file) {
	if len(f.buf) == 0 {
		return
	}
	if f.size > f.reserved && f.reserved >= 0 {
		n := max(preallocChunk, f.size-f.reserved)
		if preallocate(f.f, f.reserved, n) {
			f.reserved += n
		} else {
			f.reserved = -1 // not supported here: stop trying
		}
	}
	if _, err := f.f.Write(f.buf); err != nil {
		w.fail(f.bufRecords, fmt.Errorf("write %s: %w", f.path, err))
	}
	f.bufRecords = 0
	if cap(f.buf) > writeChunk+writeChunk/2 {
		f.buf = nil // a line far past the chunk: do not keep its buffer
	} else {
		f.buf = f.buf[:0]
	}
}

func (w *Writer) openFile(endpoint, variant string, hour, t time.Time) (*file, error) {
	dir := filepath.Join(w.cfg.Root, endpoint, variant, hour.Format("2006/01/02/15"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	name := fmt.Sprintf("%02d-%02d-%03d-%s.jsonl", t.Minute(), t.Second(), t.Nanosecond()/1e6, NewID())
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w.files.Inc()
	return &file{f: f, hour: hour, path: path}, nil
}

// fail counts lost records and logs the error (at most once a minute).
func (w *Writer) fail(lost int, err error) {
	w.errs.Add(float64(lost))
	if time.Since(w.lastErr) > time.Minute {
		w.lastErr = time.Now()
		w.log.Error("data capture write failed; records are being dropped", "err", err)
	}
}

// flushAll writes buffered lines, and closes files of past hours.
func (w *Writer) flushAll(now time.Time) {
	current := now.UTC().Truncate(time.Hour)
	for key, f := range w.open {
		if f.hour.Before(current) {
			w.closeFile(key, f)
			continue
		}
		if len(f.buf) == 0 {
			f.buf = nil // nothing for a flush interval: release the buffer
			continue
		}
		w.flushFile(f)
	}
}

func (w *Writer) closeFile(key string, f *file) {
	delete(w.open, key)
	f.closed = true
	w.flushFile(f)
	if f.reserved > f.size {
		// Give back the blocks reserved past the last line.
		if err := f.f.Truncate(f.size); err != nil {
			w.fail(0, fmt.Errorf("truncate %s: %w", f.path, err))
		}
	}
	if err := f.f.Sync(); err != nil {
		w.fail(1, fmt.Errorf("fsync %s: %w", f.path, err))
	}
	if err := f.f.Close(); err != nil {
		w.fail(1, fmt.Errorf("close %s: %w", f.path, err))
	}
}

func (w *Writer) closeAll() {
	for key, f := range w.open {
		w.closeFile(key, f)
	}
}

// Event ids. Every record needs a unique eventId, and drawing 16 bytes
// from crypto/rand for each one cost more than the rest of capture's
// request path. The writer goroutine instead makes ids from a random
// per-process prefix and a counter, formatted like a version-4 UUID
// (8-4-4-4-12 lowercase hex, version and RFC 4122 variant bits set):
//
//	<prefix: 20 hex digits, 74 random bits>-<counter: 12 hex digits>
//
// They are unique within a process by the counter (48 bits: 2.8e14 ids
// before it wraps) and across processes by the prefix (two processes share
// one with probability 2^-74). Unlike NewID's they are not unpredictable;
// nothing relies on that. Routers leave Record.EventID empty so that the id
// costs nothing on the request path.
var (
	eventIDPrefix  = newEventIDPrefix()
	eventIDCounter atomic.Uint64
)

// eventIDBatch is how many ids share one allocation.
const eventIDBatch = 64

const uuidLen = 36

// newEventIDPrefix formats the first 24 characters of the process's event
// ids, "xxxxxxxx-xxxx-4xxx-yxxx-", from a random UUID.
func newEventIDPrefix() [24]byte {
	var p [24]byte
	copy(p[:], NewID())
	return p
}

// eventIDs hands out event ids; it is owned by the writer goroutine.
type eventIDs struct {
	rest string // ids not handed out yet, uuidLen bytes each
}

// next returns an event id never returned before in this process.
func (e *eventIDs) next() string {
	if len(e.rest) == 0 {
		e.rest = newEventIDs(eventIDBatch)
	}
	id := e.rest[:uuidLen]
	e.rest = e.rest[uuidLen:]
	return id
}

// newEventIDs returns n consecutive event ids, concatenated in one string
// (one allocation; the ids are substrings of it).
func newEventIDs(n int) string {
	first := eventIDCounter.Add(uint64(n)) - uint64(n)
	var sb strings.Builder
	sb.Grow(n * uuidLen)
	var id [uuidLen]byte
	copy(id[:], eventIDPrefix[:])
	for i := range n {
		c := first + uint64(i)
		for j := uuidLen - 1; j >= len(eventIDPrefix); j-- {
			id[j] = hexDigits[c&0xf]
			c >>= 4
		}
		sb.Write(id[:])
	}
	return sb.String()
}

// NewID returns a random UUID (version 4) string, for file names and
// other ids that must be unpredictable.
func NewID() string {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		binaryFallback(b[:])
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

func binaryFallback(b []byte) {
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
}
