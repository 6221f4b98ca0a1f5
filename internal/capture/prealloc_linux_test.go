package capture

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Blocks reserved ahead of the lines are given back when a file closes:
// a closed capture file occupies about its size on disk.
func TestClosedFilesKeepNoReservedBlocks(t *testing.T) {
	root := t.TempDir()
	w, err := NewWriter(WriterConfig{Root: root, Default: DefaultEndpointConfig()})
	if err != nil {
		t.Fatal(err)
	}
	for range 2000 {
		w.Capture(Record{Endpoint: "e", Time: time.Now(), InputContentType: "text/csv", Input: []byte("1,2,3")})
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		if onDisk := st.Blocks * 512; onDisk > st.Size+64<<10 {
			t.Errorf("%s: %d bytes on disk for %d bytes of lines: reserved blocks kept", p, onDisk, st.Size)
		}
		return nil
	})
	if n != 1 {
		t.Errorf("%d files, want 1", n)
	}
}
