package main

import "testing"

func TestSelfCommandFor(t *testing.T) {
	tests := []struct{ exe, want string }{
		{"/tmp/go-build3381/b001/exe/bridge", "go run ./cmd/bridge"},
		{"/home/ana/go/bin/bridge", "/home/ana/go/bin/bridge"},
		{"/opt/my tools/bridge", "'/opt/my tools/bridge'"},
		{"/usr/local/bin/exe/bridge", "/usr/local/bin/exe/bridge"},
	}
	for _, tt := range tests {
		if got := selfCommandFor(tt.exe); got != tt.want {
			t.Errorf("selfCommandFor(%q) = %q, want %q", tt.exe, got, tt.want)
		}
	}
}
