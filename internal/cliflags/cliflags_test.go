package cliflags

import (
	"maps"
	"testing"

	"github.com/spf13/pflag"
)

func TestSettings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want map[string]string
	}{
		{"nothing set", nil, map[string]string{}},
		{"string", []string{"--home", "/srv/bridge"}, map[string]string{"BRIDGE_HOME": "/srv/bridge"}},
		{"set to the default still counts", []string{"--capture-queue", "8192"}, map[string]string{"BRIDGE_CAPTURE_QUEUE": "8192"}},
		{"bool", []string{"--capture"}, map[string]string{"BRIDGE_CAPTURE": "true"}},
		{"repeatable joined with ;", []string{"--capture-endpoint", "a=off", "--capture-endpoint", "b=output"},
			map[string]string{"BRIDGE_CAPTURE_ENDPOINTS": "a=off;b=output"}},
		{"unmarked flag ignored", []string{"--once"}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
			fs.String("home", "", "")
			fs.Int("capture-queue", 8192, "")
			fs.Bool("capture", false, "")
			fs.StringArray("capture-endpoint", nil, "")
			fs.Bool("once", false, "")
			Overrides(fs, "home", "BRIDGE_HOME")
			Overrides(fs, "capture-queue", "BRIDGE_CAPTURE_QUEUE")
			Overrides(fs, "capture", "BRIDGE_CAPTURE")
			Overrides(fs, "capture-endpoint", "BRIDGE_CAPTURE_ENDPOINTS")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if got := Settings(fs); !maps.Equal(got, tt.want) {
				t.Fatalf("Settings = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOverridesUnknownFlagPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Overrides of an undefined flag did not panic")
		}
	}()
	Overrides(pflag.NewFlagSet("x", pflag.ContinueOnError), "nope", "BRIDGE_NOPE")
}
