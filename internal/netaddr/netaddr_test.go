package netaddr

import "testing"

func TestDialable(t *testing.T) {
	for in, want := range map[string]string{
		":3000":          "127.0.0.1:3000",
		"0.0.0.0:3000":   "127.0.0.1:3000",
		"[::]:3000":      "127.0.0.1:3000",
		"10.1.2.3:80":    "10.1.2.3:80",
		"localhost:5000": "localhost:5000",
		"[::1]:5000":     "[::1]:5000",
		"no-port":        "no-port",
	} {
		if got := Dialable(in); got != want {
			t.Errorf("Dialable(%q) = %q, want %q", in, got, want)
		}
	}
}
