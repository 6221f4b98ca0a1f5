//go:build cgo && linux

// Package libmtest calls the system C library's expf and logf, for the
// tests that compare package libmf with them. It needs cgo; without it
// Available is false.
package libmtest

/*
#cgo LDFLAGS: -lm
#include <math.h>

static void expf_range(float *x, float *y, int n) {
	for (int i = 0; i < n; i++) y[i] = expf(x[i]);
}

static void logf_range(float *x, float *y, int n) {
	for (int i = 0; i < n; i++) y[i] = logf(x[i]);
}
*/
import "C"

import "unsafe"

// Available reports whether the C library can be called.
const Available = true

// Expf sets y[i] = expf(x[i]) with the C library's expf.
func Expf(x, y []float32) {
	if len(x) > 0 {
		C.expf_range((*C.float)(unsafe.Pointer(&x[0])), (*C.float)(unsafe.Pointer(&y[0])), C.int(len(x)))
	}
}

// Logf sets y[i] = logf(x[i]) with the C library's logf.
func Logf(x, y []float32) {
	if len(x) > 0 {
		C.logf_range((*C.float)(unsafe.Pointer(&x[0])), (*C.float)(unsafe.Pointer(&y[0])), C.int(len(x)))
	}
}
