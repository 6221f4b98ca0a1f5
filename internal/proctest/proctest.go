// Package proctest reads the process table (/proc) for tests that check no
// child process outlives what started it.
package proctest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Descendants lists the live processes under pid (children, their
// children, ...) with their names, from /proc.
func Descendants(pid int) map[int]string {
	parent := map[int]int{}
	name := map[int]string{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || f[0] == "Z" {
			continue
		}
		id, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		parent[id], _ = strconv.Atoi(f[1])
		name[id] = s[:i+1]
	}
	out := map[int]string{}
	for id := range parent {
		for p := parent[id]; p > 1; p = parent[p] {
			if p == pid {
				out[id] = name[id]
				break
			}
		}
	}
	return out
}

// Alive reports whether pid is a live process. A zombie has exited (only
// its parent has not reaped it yet), so it is not alive.
func Alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}
