package demo

import (
	"os"
	"path/filepath"
	"strings"
)

// BridgeCommand is how to call bridge again with the same home, for the
// commands the guide prints.
func BridgeCommand(home string) string {
	if home == ".bridge" {
		return selfCommand()
	}
	return selfCommand() + " --home " + shellQuote(home)
}

// selfCommand is how to run this same bridge again from the current
// directory, as commands Bridge prints must work when pasted: `go run
// ./cmd/bridge` when this process was started by go run, else the absolute
// path of the running executable (a bare `bridge` may be another program:
// Debian's iproute2 ships /usr/sbin/bridge).
func selfCommand() string {
	exe, err := os.Executable()
	if err != nil {
		return "bridge"
	}
	if p, err := filepath.EvalSymlinks(exe); err == nil {
		exe = p
	}
	return selfCommandFor(exe)
}

// selfCommandFor is selfCommand for the executable path exe.
func selfCommandFor(exe string) string {
	// go run builds into $GOTMPDIR/go-build<random>/b<n>/exe/<name>.
	dir := filepath.ToSlash(filepath.Dir(exe))
	if strings.HasSuffix(dir, "/exe") && strings.Contains(dir, "/go-build") {
		return "go run ./cmd/bridge"
	}
	return shellQuote(exe)
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
