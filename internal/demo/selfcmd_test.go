package demo

import (
	"strings"
	"testing"
)

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

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{".bridge", ".bridge"},
		{"/srv/bridge/home-1", "/srv/bridge/home-1"},
		{"", "''"},
		{"my home", "'my home'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
	} {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBridgeCommandNamesTheHome(t *testing.T) {
	if got := BridgeCommand(".bridge"); strings.Contains(got, "--home") {
		t.Errorf("BridgeCommand(.bridge) = %q: the default home needs no flag", got)
	}
	if got := BridgeCommand("/srv/my home"); !strings.HasSuffix(got, " --home '/srv/my home'") {
		t.Errorf("BridgeCommand(/srv/my home) = %q", got)
	}
}
