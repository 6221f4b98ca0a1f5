//go:build !cgo || !linux

package libmtest

// Available reports whether the C library can be called.
const Available = false

// Expf needs cgo.
func Expf(x, y []float32) { panic("libmtest: built without cgo") }

// Logf needs cgo.
func Logf(x, y []float32) { panic("libmtest: built without cgo") }
