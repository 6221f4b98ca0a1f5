package stats

import (
	"math"
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// ExactDistinctLimit is the number of distinct values a Distinct counts
// exactly before it switches to HyperLogLog.
const ExactDistinctLimit = 10000

// hllP is the HyperLogLog precision: 2^14 registers, a relative standard
// error of 1.04/sqrt(2^14) = 0.81%.
const hllP = 14

// DistinctError is the relative standard error of Distinct's estimate once
// it exceeds ExactDistinctLimit (0 below it: the count is exact).
const DistinctError = 0.0081

// Distinct counts distinct strings: exactly up to ExactDistinctLimit, then
// with HyperLogLog (Flajolet et al. 2007, with the small-range correction).
// Memory is bounded by the limit's set or 16 KiB of registers.
type Distinct struct {
	exact map[uint64]struct{}
	regs  []uint8
}

// Add counts s.
func (d *Distinct) Add(s string) { d.AddHash(xxhash.Sum64String(s)) }

// AddHash counts a value by its 64-bit hash.
func (d *Distinct) AddHash(h uint64) {
	if d.regs != nil {
		d.addReg(h)
		return
	}
	if d.exact == nil {
		d.exact = make(map[uint64]struct{})
	}
	d.exact[h] = struct{}{}
	if len(d.exact) > ExactDistinctLimit {
		d.regs = make([]uint8, 1<<hllP)
		for h := range d.exact {
			d.addReg(h)
		}
		d.exact = nil
	}
}

func (d *Distinct) addReg(h uint64) {
	idx := h >> (64 - hllP)
	rho := uint8(bits.LeadingZeros64(h<<hllP|1<<(hllP-1)) + 1)
	if rho > d.regs[idx] {
		d.regs[idx] = rho
	}
}

// Merge folds o into d.
func (d *Distinct) Merge(o *Distinct) {
	if o.regs != nil {
		if d.regs == nil {
			d.regs = make([]uint8, 1<<hllP)
			for h := range d.exact {
				d.addReg(h)
			}
			d.exact = nil
		}
		for i, r := range o.regs {
			if r > d.regs[i] {
				d.regs[i] = r
			}
		}
		return
	}
	for h := range o.exact {
		d.AddHash(h)
	}
}

// Exact reports whether Count is exact.
func (d *Distinct) Exact() bool { return d.regs == nil }

// Count returns the number of distinct values (estimated past the limit).
func (d *Distinct) Count() int64 {
	if d.regs == nil {
		return int64(len(d.exact))
	}
	m := float64(len(d.regs))
	var sum float64
	zeros := 0
	for _, r := range d.regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int64(e + 0.5)
}
