package libmf_test

import (
	"flag"
	"math"
	"testing"

	"github.com/bridgeops/bridge/internal/libmf"
	"github.com/bridgeops/bridge/internal/libmf/libmtest"
)

var (
	all     = flag.Bool("libmf.all", false, "compare every float32 input, not a sample (about a minute)")
	variant = flag.String("libmf.variant", "", "compare with this build (fma or plain) instead of the one FMA selects")
)

// compare runs fn and the C library's cfn over a sample of every float32
// bit pattern (all of them with -libmf.all) and returns the inputs where
// they differ (at most 10) and how many results differ from the correctly
// rounded ref.
func compare(t *testing.T, fn func(float32) float32, cfn func(x, y []float32), ref func(float64) float64) (bad []float32, nBad, offRef, n int) {
	t.Helper()
	stride := uint64(251)
	if *all {
		stride = 1
	}
	const chunk = 1 << 16
	x := make([]float32, 0, chunk)
	y := make([]float32, chunk)
	flush := func() {
		cfn(x, y[:len(x)])
		for i, v := range x {
			got, want := fn(v), y[i]
			n++
			if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
				nBad++
				if len(bad) < 10 {
					bad = append(bad, v)
				}
			}
			if r := float32(ref(float64(v))); r != want && !(r != r && want != want) {
				offRef++
			}
		}
		x = x[:0]
	}
	for b := uint64(0); b < 1<<32; b += stride {
		x = append(x, math.Float32frombits(uint32(b)))
		if len(x) == chunk {
			flush()
		}
	}
	// Around the special cases.
	for _, c := range []float32{0, 1, 88, -88, 0x1.62e42ep6, -0x1.9fe368p6, -0x1.9d1d9ep6, 88.7, -88.7, 0x1p-126} {
		b := math.Float32bits(c)
		for d := uint32(0); d < 64; d++ {
			x = append(x, math.Float32frombits(b+d), math.Float32frombits(b-d))
		}
	}
	x = append(x, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	flush()
	return bad, nBad, offRef, n
}

func pick(fma, plain func(float32) float32, def func(float32) float32) func(float32) float32 {
	switch *variant {
	case "fma":
		return fma
	case "plain":
		return plain
	}
	return def
}

// TestMatchesLibm compares Expf and Logf with the system's expf and logf:
// every result must have the same bits. The count of results that differ
// from the correctly rounded value shows that the comparison can fail.
func TestMatchesLibm(t *testing.T) {
	if !libmtest.Available {
		t.Skip("needs cgo and a C compiler to call the C library")
	}
	cases := []struct {
		name string
		fn   func(float32) float32
		c    func(x, y []float32)
		ref  func(float64) float64
	}{
		{"expf", pick(libmf.ExpfFMA, libmf.ExpfPlain, libmf.Expf), libmtest.Expf, math.Exp},
		{"logf", pick(libmf.LogfFMA, libmf.LogfPlain, libmf.Logf), libmtest.Logf, math.Log},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad, nBad, offRef, n := compare(t, c.fn, c.c, c.ref)
			t.Logf("%s (fma=%v variant=%q): %d inputs, %d differ from the C library, %d C results differ from the correctly rounded value", c.name, libmf.FMA, *variant, n, nBad, offRef)
			if nBad > 0 {
				for _, v := range bad {
					t.Errorf("%s(%g = %#08x): Go %g, C %g", c.name, v, math.Float32bits(v), c.fn(v), cRes(c.c, v))
				}
				t.Fatalf("%d of %d results differ", nBad, n)
			}
		})
	}
}

func cRes(cfn func(x, y []float32), v float32) float32 {
	y := []float32{0}
	cfn([]float32{v}, y)
	return y[0]
}

// TestBuildsAgree: glibc's FMA and plain builds round differently only in
// rare cases; over the sample they give the same bits, so Expf and Logf
// do not depend on guessing the build right.
func TestBuildsAgree(t *testing.T) {
	stride := uint64(251)
	if *all {
		stride = 1
	}
	for b := uint64(0); b < 1<<32; b += stride {
		x := math.Float32frombits(uint32(b))
		if a, p := libmf.ExpfFMA(x), libmf.ExpfPlain(x); math.Float32bits(a) != math.Float32bits(p) && a == a {
			t.Errorf("expf(%g): fma %g, plain %g", x, a, p)
		}
		if a, p := libmf.LogfFMA(x), libmf.LogfPlain(x); math.Float32bits(a) != math.Float32bits(p) && a == a {
			t.Errorf("logf(%g): fma %g, plain %g", x, a, p)
		}
	}
}
