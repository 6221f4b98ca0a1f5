//go:build !linux

package capture

import "os"

// preallocate is a no-op where fallocate(2) does not exist.
func preallocate(f *os.File, off, n int64) bool { return false }
