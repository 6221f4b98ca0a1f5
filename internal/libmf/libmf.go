// Package libmf computes float32 exp and log exactly as glibc's expf and
// logf do, bit for bit.
//
// XGBoost computes its probabilities in float32 with the C library's expf
// (and its base_score margin with logf). On Linux those are glibc's expf and
// logf (since glibc 2.27), which are not correctly rounded: a few results
// in ten thousand differ by one float32 step from exp rounded to float32.
// To answer exactly as XGBoost does, Expf and Logf repeat glibc's
// algorithms step by step: the table-driven methods of ARM's
// optimized-routines (MIT licence), with their tables and polynomial
// coefficients.
//
// On x86-64 glibc picks, by CPU, one of two builds of the same C code: one
// compiled with FMA contraction (chosen when the CPU has FMA and AVX2) and
// one without. Their intermediate results differ in the last bits of a
// float64; FMA reports the same choice, and Expf and Logf follow it. On
// arm64 the C code is always compiled with contraction. The package's tests
// compare with the system's libm: through cgo when a C compiler is present
// (a 17-million-input sample, or all 2^32 inputs with -libmf.all), and
// through Python's ctypes on the inputs nearest a rounding boundary.
package libmf

import (
	"math"
	"runtime"

	"golang.org/x/sys/cpu"
)

// FMA reports whether the C library on this machine uses its FMA build.
var FMA = runtime.GOARCH == "arm64" || (runtime.GOARCH == "amd64" && cpu.X86.HasFMA && cpu.X86.HasAVX2)

// exp2fTab[i] = uint(2^(i/32)) - (i << 47).
var exp2fTab = [32]uint64{
	0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
	0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
	0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
	0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
	0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
	0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
	0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
	0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
}

const (
	expfN       = 32
	expfShift   = 0x1.8p+52
	expfInvLn2N = 0x1.71547652b82fep+0 * expfN
	expfC0      = 0x1.c6af84b912394p-5 / expfN / expfN / expfN
	expfC1      = 0x1.ebfce50fac4f3p-3 / expfN / expfN
	expfC2      = 0x1.62e42ff0c52d6p-1 / expfN
)

// Expf is glibc's expf on this machine.
func Expf(x float32) float32 {
	if FMA {
		return ExpfFMA(x)
	}
	return ExpfPlain(x)
}

// expfSpecial handles |x| >= 88 and NaN as glibc does; ok is false for the
// inputs the main path computes.
func expfSpecial(x float32) (float32, bool) {
	abstop := math.Float32bits(x) >> 20 & 0x7ff
	if abstop < math.Float32bits(88)>>20 {
		return 0, false
	}
	switch {
	case math.IsInf(float64(x), -1):
		return 0, true
	case abstop >= math.Float32bits(float32(math.Inf(1)))>>20:
		return x + x, true
	case x > 0x1.62e42ep6:
		return float32(math.Inf(1)), true
	case x < -0x1.9fe368p6:
		return 0, true
	}
	return 0, false
}

// ExpfPlain is glibc's expf as built without FMA contraction.
func ExpfPlain(x float32) float32 {
	if v, ok := expfSpecial(x); ok {
		return v
	}
	xd := float64(x)
	// The explicit float64 conversions keep each product rounded on its
	// own (Go may otherwise fuse a*b+c on some architectures).
	z := float64(expfInvLn2N * xd)
	kd := z + expfShift
	ki := math.Float64bits(kd)
	kd -= expfShift
	r := z - kd
	t := exp2fTab[ki%expfN] + ki<<(52-5)
	s := math.Float64frombits(t)
	z = float64(expfC0*r) + expfC1
	r2 := float64(r * r)
	y := float64(expfC2*r) + 1
	y = float64(z*r2) + y
	y = y * s
	return float32(y)
}

// ExpfFMA is glibc's expf as built with FMA contraction.
func ExpfFMA(x float32) float32 {
	if v, ok := expfSpecial(x); ok {
		return v
	}
	xd := float64(x)
	kd := math.FMA(expfInvLn2N, xd, expfShift)
	ki := math.Float64bits(kd)
	kd -= expfShift
	r := math.FMA(expfInvLn2N, xd, -kd)
	t := exp2fTab[ki%expfN] + ki<<(52-5)
	s := math.Float64frombits(t)
	z := math.FMA(expfC0, r, expfC1)
	r2 := float64(r * r)
	y := math.FMA(expfC2, r, 1)
	y = math.FMA(z, r2, y)
	y = y * s
	return float32(y)
}

var logfTab = [16][2]float64{ // invc, logc
	{0x1.661ec79f8f3bep+0, -0x1.57bf7808caadep-2},
	{0x1.571ed4aaf883dp+0, -0x1.2bef0a7c06ddbp-2},
	{0x1.49539f0f010bp+0, -0x1.01eae7f513a67p-2},
	{0x1.3c995b0b80385p+0, -0x1.b31d8a68224e9p-3},
	{0x1.30d190c8864a5p+0, -0x1.6574f0ac07758p-3},
	{0x1.25e227b0b8eap+0, -0x1.1aa2bc79c81p-3},
	{0x1.1bb4a4a1a343fp+0, -0x1.a4e76ce8c0e5ep-4},
	{0x1.12358f08ae5bap+0, -0x1.1973c5a611cccp-4},
	{0x1.0953f419900a7p+0, -0x1.252f438e10c1ep-5},
	{0x1p+0, 0x0p+0},
	{0x1.e608cfd9a47acp-1, 0x1.aa5aa5df25984p-5},
	{0x1.ca4b31f026aap-1, 0x1.c5e53aa362eb4p-4},
	{0x1.b2036576afce6p-1, 0x1.526e57720db08p-3},
	{0x1.9c2d163a1aa2dp-1, 0x1.bc2860d22477p-3},
	{0x1.886e6037841edp-1, 0x1.1058bc8a07ee1p-2},
	{0x1.767dcf5534862p-1, 0x1.4043057b6ee09p-2},
}

const (
	logfLn2 = 0x1.62e42fefa39efp-1
	logfA0  = -0x1.00ea348b88334p-2
	logfA1  = 0x1.5575b0be00b6ap-2
	logfA2  = -0x1.ffffef20a4123p-2
	logfOff = 0x3f330000
)

// Logf is glibc's logf on this machine.
func Logf(x float32) float32 { return logf(x, FMA) }

// LogfPlain is glibc's logf as built without FMA contraction.
func LogfPlain(x float32) float32 { return logf(x, false) }

// LogfFMA is glibc's logf as built with FMA contraction.
func LogfFMA(x float32) float32 { return logf(x, true) }

func logf(x float32, fma bool) float32 {
	ix := math.Float32bits(x)
	if ix == 0x3f800000 {
		return 0
	}
	if ix-0x00800000 >= 0x7f800000-0x00800000 {
		switch {
		case ix*2 == 0:
			return float32(math.Inf(-1))
		case ix == 0x7f800000:
			return x
		case ix&0x80000000 != 0 || ix*2 >= 0xff000000:
			return float32(math.NaN())
		}
		ix = math.Float32bits(x * 0x1p23)
		ix -= 23 << 23
	}
	tmp := ix - logfOff
	i := (tmp >> (23 - 4)) % 16
	k := int32(tmp) >> 23
	iz := ix - (tmp & (0x1ff << 23))
	invc, logc := logfTab[i][0], logfTab[i][1]
	z := float64(math.Float32frombits(iz))
	var r, y0, r2, y float64
	if fma {
		r = math.FMA(z, invc, -1)
		y0 = math.FMA(float64(k), logfLn2, logc)
		r2 = float64(r * r)
		y = math.FMA(logfA1, r, logfA2)
		y = math.FMA(logfA0, r2, y)
		y = math.FMA(y, r2, y0+r)
	} else {
		r = float64(z*invc) - 1
		y0 = logc + float64(float64(k)*logfLn2)
		r2 = float64(r * r)
		y = float64(logfA1*r) + logfA2
		y = float64(logfA0*r2) + y
		y = float64(y*r2) + (y0 + r)
	}
	return float32(y)
}
