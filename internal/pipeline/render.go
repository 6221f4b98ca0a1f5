package pipeline

import (
	"fmt"
	"strings"
)

// Render draws the DAG as "text", "dot" (Graphviz) or "mermaid".
func Render(d *Definition, format string) (string, error) {
	g, err := d.Graph()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	label := func(e Edge) string {
		if strings.HasSuffix(e.Field, "Steps") && !strings.HasPrefix(e.Field, "Arguments") {
			return strings.TrimSuffix(e.Field, "Steps")
		}
		return ""
	}
	switch format {
	case "", "text":
		for _, n := range g.Order {
			st := d.Step(n)
			fmt.Fprintf(&b, "%s (%s)\n", n, st.Type)
			for _, e := range g.Deps[n] {
				how := "after"
				if l := label(e); l != "" {
					how = "when " + l + " of"
				} else if !strings.HasPrefix(e.Field, "DependsOn") {
					how = "uses"
				}
				fmt.Fprintf(&b, "  %s %s (%s)\n", how, e.From, e.Field)
			}
		}
	case "dot":
		b.WriteString("digraph pipeline {\n  rankdir=LR;\n  node [shape=box];\n")
		for _, n := range g.Order {
			fmt.Fprintf(&b, "  %q [label=%q];\n", n, n+"\n"+d.Step(n).Type)
		}
		for _, n := range g.Order {
			for _, e := range g.Deps[n] {
				if l := label(e); l != "" {
					fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", e.From, n, l)
				} else {
					fmt.Fprintf(&b, "  %q -> %q;\n", e.From, n)
				}
			}
		}
		b.WriteString("}\n")
	case "mermaid":
		b.WriteString("flowchart LR\n")
		ids := map[string]string{}
		for i, n := range g.Order {
			ids[n] = fmt.Sprintf("s%d", i)
			shape := "[%q]"
			if d.Step(n).Type == TypeCondition {
				shape = "{%q}"
			}
			fmt.Fprintf(&b, "  %s"+shape+"\n", ids[n], n+" ("+d.Step(n).Type+")")
		}
		for _, n := range g.Order {
			for _, e := range g.Deps[n] {
				if l := label(e); l != "" {
					fmt.Fprintf(&b, "  %s -->|%s| %s\n", ids[e.From], l, ids[n])
				} else {
					fmt.Fprintf(&b, "  %s --> %s\n", ids[e.From], ids[n])
				}
			}
		}
	default:
		return "", fmt.Errorf("--format %q: want text, dot or mermaid", format)
	}
	return b.String(), nil
}
