package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// resetCLI puts the command tree back as main starts it: every flag of every
// command at its default and unchanged (so one test's --help or --once does
// not leak into the next), and no context left from an earlier run (cobra
// keeps a subcommand's first context).
func resetCLI() {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.SetContext(nil)
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				var err error
				if sv, ok := f.Value.(pflag.SliceValue); ok {
					err = sv.Replace(nil)
				} else {
					err = f.Value.Set(f.DefValue)
				}
				if err != nil {
					panic(fmt.Sprintf("reset flag --%s of %s: %v", f.Name, c.CommandPath(), err))
				}
				f.Changed = false
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(rootCmd)
}
