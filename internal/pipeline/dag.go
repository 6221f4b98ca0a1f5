package pipeline

import (
	"fmt"
	"slices"
	"strings"
)

// Edge is one dependency of a step and the field that makes it.
type Edge struct {
	From  string // the step depended on
	Field string // DependsOn[i], Arguments... or "IfSteps"/"ElseSteps" of the parent
}

// Graph is a definition's DAG.
type Graph struct {
	// Order lists every step so that each comes after all it depends on.
	Order []string
	// Deps lists each step's dependencies.
	Deps map[string][]Edge
}

// Graph builds the DAG from data references, DependsOn and condition
// branches, and rejects cycles naming the steps and fields on the cycle.
func (d *Definition) Graph() (*Graph, error) {
	g := &Graph{Deps: map[string][]Edge{}}
	for _, st := range d.Steps {
		seen := map[string]bool{}
		add := func(from, field string) {
			if !seen[from] {
				seen[from] = true
				g.Deps[st.Name] = append(g.Deps[st.Name], Edge{From: from, Field: field})
			}
		}
		if st.Parent != "" {
			add(st.Parent, st.Branch+"Steps")
		}
		for i, dep := range st.DependsOn {
			add(dep, fmt.Sprintf("DependsOn[%d]", i))
		}
		walkRefs(st.Arguments, "Arguments", func(field string, r Ref) bool {
			if r.Kind == RefStep || r.Kind == RefPropertyFile {
				add(r.Name, field)
			}
			return true
		})
	}
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(name string) error
	visit = func(name string) error {
		color[name] = grey
		stack = append(stack, name)
		for _, e := range g.Deps[name] {
			switch color[e.From] {
			case grey:
				i := slices.Index(stack, e.From)
				cycle := append(slices.Clone(stack[i:]), e.From)
				slices.Reverse(cycle)
				return &Error{File: d.Source, Step: name, Field: e.Field,
					Err: fmt.Errorf("dependency cycle: %s", strings.Join(cycle, " → "))}
			case white:
				if err := visit(e.From); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[name] = black
		g.Order = append(g.Order, name)
		return nil
	}
	for _, st := range d.Steps {
		if color[st.Name] == white {
			if err := visit(st.Name); err != nil {
				return nil, err
			}
		}
	}
	return g, nil
}
