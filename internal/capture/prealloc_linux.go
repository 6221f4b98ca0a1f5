package capture

import (
	"os"
	"syscall"
)

// preallocate reserves n bytes of disk blocks from off without changing
// the file's size (FALLOC_FL_KEEP_SIZE): readers see only the lines
// written. Appending into reserved blocks halves the kernel's cost per
// byte written on ext4 (no delayed-allocation bookkeeping per page).
// Failure (a file system without fallocate) is harmless: writes then
// allocate as usual.
func preallocate(f *os.File, off, n int64) bool {
	const keepSize = 0x01 // FALLOC_FL_KEEP_SIZE
	for {
		err := syscall.Fallocate(int(f.Fd()), keepSize, off, n)
		if err != syscall.EINTR {
			return err == nil
		}
	}
}
