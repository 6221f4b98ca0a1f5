// Package join matches captured predictions with ground-truth labels by id
// when there are more labels than fit in memory: a grace hash join. Both
// sides are spilled to partition files by a hash of the id, then each
// partition's labels are loaded into a map and its predictions streamed
// past it, so memory is bounded by one partition, not by the window.
package join

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/cespare/xxhash/v2"
)

// Spill is a two-sided partitioned spill. Writers are per worker, so Add
// calls from different workers need no locking; calls with the same worker
// index must not run concurrently.
type Spill struct {
	dir        string
	partitions int
	gt, cap    [][]*part // [worker][partition]
	gtN        [][]int   // labels per [worker][partition], to size maps
}

type part struct {
	f *os.File
	w *bufio.Writer
}

// New creates a spill in a new temporary directory under dir ("" for the
// system default) for the given numbers of partitions and writers.
func New(dir string, partitions, workers int) (*Spill, error) {
	if partitions < 1 {
		partitions = 1
	}
	d, err := os.MkdirTemp(dir, "bridge-join-")
	if err != nil {
		return nil, fmt.Errorf("create join spill directory: %w", err)
	}
	s := &Spill{dir: d, partitions: partitions, gtN: make([][]int, workers)}
	for w := range s.gtN {
		s.gtN[w] = make([]int, partitions)
	}
	for _, side := range []*[][]*part{&s.gt, &s.cap} {
		*side = make([][]*part, workers)
		for w := range *side {
			(*side)[w] = make([]*part, partitions)
		}
	}
	return s, nil
}

// Partitions is the number of partitions.
func (s *Spill) Partitions() int { return s.partitions }

func (s *Spill) partition(id []byte) int { return int(xxhash.Sum64(id) % uint64(s.partitions)) }

func (s *Spill) writer(side [][]*part, name string, worker int, id []byte) (*bufio.Writer, error) {
	p := s.partition(id)
	pt := side[worker][p]
	if pt == nil {
		f, err := os.Create(filepath.Join(s.dir, fmt.Sprintf("%s-%d-%d", name, worker, p)))
		if err != nil {
			return nil, fmt.Errorf("create join partition: %w", err)
		}
		pt = &part{f: f, w: bufio.NewWriterSize(f, 32<<10)}
		side[worker][p] = pt
	}
	return pt.w, nil
}

func writeFields(w *bufio.Writer, fields ...[]byte) error {
	var hdr [binary.MaxVarintLen64]byte
	for _, f := range fields {
		n := binary.PutUvarint(hdr[:], uint64(len(f)))
		if _, err := w.Write(hdr[:n]); err != nil {
			return err
		}
		if _, err := w.Write(f); err != nil {
			return err
		}
	}
	return nil
}

// AddLabel spills one ground-truth record.
func (s *Spill) AddLabel(worker int, id, label []byte) error {
	w, err := s.writer(s.gt, "gt", worker, id)
	if err != nil {
		return err
	}
	s.gtN[worker][s.partition(id)]++
	return writeFields(w, id, label)
}

// AddProbe spills one captured record: its id and n fields.
func (s *Spill) AddProbe(worker int, id []byte, fields ...[]byte) error {
	w, err := s.writer(s.cap, "cap", worker, id)
	if err != nil {
		return err
	}
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(fields)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	if err := writeFields(w, id); err != nil {
		return err
	}
	return writeFields(w, fields...)
}

// MatchFunc receives a probe's fields with its label; matched is false when
// no ground truth matched. fields are valid only during the call.
type MatchFunc func(worker int, label string, matched bool, fields [][]byte)

// Join flushes the spill and matches partition by partition with the given
// number of goroutines (each handles whole partitions).
func (s *Spill) Join(ctx context.Context, workers int, fn MatchFunc) error {
	for _, side := range [][][]*part{s.gt, s.cap} {
		for _, ws := range side {
			for _, p := range ws {
				if p == nil {
					continue
				}
				if err := p.w.Flush(); err != nil {
					return fmt.Errorf("flush join partition: %w", err)
				}
				if _, err := p.f.Seek(0, io.SeekStart); err != nil {
					return fmt.Errorf("rewind join partition: %w", err)
				}
			}
		}
	}
	if workers < 1 {
		workers = 1
	}
	jobs := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for p := range jobs {
				if err := s.joinPartition(w, p, fn); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	for p := 0; p < s.partitions && ctx.Err() == nil; p++ {
		jobs <- p
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}

func (s *Spill) joinPartition(worker, p int, fn MatchFunc) error {
	n := 0
	for w := range s.gtN {
		n += s.gtN[w][p]
	}
	labels := make(map[string]string, n)
	var buf []byte
	for _, ws := range s.gt {
		pt := ws[p]
		if pt == nil {
			continue
		}
		r := bufio.NewReaderSize(pt.f, 64<<10)
		for {
			var err error
			buf, err = appendField(r, buf[:0])
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			idLen := len(buf)
			if buf, err = appendField(r, buf); err != nil {
				return err
			}
			// One allocation holds both the id and the label.
			both := string(buf)
			labels[both[:idLen]] = both[idLen:]
		}
	}
	var fields [][]byte
	for _, ws := range s.cap {
		pt := ws[p]
		if pt == nil {
			continue
		}
		r := bufio.NewReaderSize(pt.f, 64<<10)
		for {
			n, err := binary.ReadUvarint(r)
			if err == io.EOF {
				break
			}
			if err != nil {
				return fmt.Errorf("read join partition: %w", err)
			}
			// One buffer per partition reader: id and fields alias it.
			buf = buf[:0]
			var ends [64]int
			if n+1 > uint64(len(ends)) {
				return errors.New("read join partition: too many fields")
			}
			for i := uint64(0); i <= n; i++ {
				if buf, err = appendField(r, buf); err != nil {
					return err
				}
				ends[i] = len(buf)
			}
			id := buf[:ends[0]]
			fields = fields[:0]
			for i := uint64(1); i <= n; i++ {
				fields = append(fields, buf[ends[i-1]:ends[i]])
			}
			label, ok := labels[string(id)]
			fn(worker, label, ok, fields)
		}
	}
	return nil
}

func appendField(r *bufio.Reader, buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err == io.EOF {
		return buf, io.EOF
	}
	if err != nil {
		return buf, fmt.Errorf("read join partition: %w", err)
	}
	if n > 1<<30 {
		return buf, errors.New("read join partition: corrupt length")
	}
	start := len(buf)
	buf = append(buf, make([]byte, n)...)
	if _, err := io.ReadFull(r, buf[start:]); err != nil {
		return buf, fmt.Errorf("read join partition: %w", err)
	}
	return buf, nil
}

// Close removes the spill's files.
func (s *Spill) Close() error {
	for _, side := range [][][]*part{s.gt, s.cap} {
		for _, ws := range side {
			for _, p := range ws {
				if p != nil {
					p.f.Close()
				}
			}
		}
	}
	return os.RemoveAll(s.dir)
}
