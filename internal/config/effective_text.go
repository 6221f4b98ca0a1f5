package config

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteEffective writes the effective settings as the table bridge config
// prints: one row per setting with its value ("(unset)" when empty), its
// source and what it means.
func WriteEffective(w io.Writer, eff []Effective) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tSOURCE\tMEANING")
	for _, e := range eff {
		v := e.Value
		if v == "" {
			v = "(unset)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, v, e.Source, e.Help)
	}
	return tw.Flush()
}
