// Package cliflags ties command-line flags to the configuration variables
// they override (flags > environment > .env > defaults): a flag is marked
// with the variable's name, and the values of the marked flags a command
// line set are handed to config.LoadWithFlags.
package cliflags

import (
	"strings"

	"github.com/spf13/pflag"
)

// settingAnnotation marks a flag that overrides a configuration variable.
const settingAnnotation = "bridge_setting"

// Overrides declares that flag (already defined in fs) overrides the
// configuration variable setting. It panics if fs has no such flag: that
// is a programming error in the command's definition.
func Overrides(fs *pflag.FlagSet, flag, setting string) {
	if err := fs.SetAnnotation(flag, settingAnnotation, []string{setting}); err != nil {
		panic(err)
	}
}

// Settings returns the values of the flags in fs that the command line set
// and that override settings, by variable name. Repeatable flags are
// joined with ';', the separator list settings use.
func Settings(fs *pflag.FlagSet) map[string]string {
	out := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) {
		names := f.Annotations[settingAnnotation]
		if len(names) == 0 || !f.Changed {
			return
		}
		v := f.Value.String()
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			v = strings.Join(sv.GetSlice(), ";")
		}
		out[names[0]] = v
	})
	return out
}
