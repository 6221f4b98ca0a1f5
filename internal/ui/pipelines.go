package ui

import (
	"context"
	"net/http"
	"sort"
	"time"
)

// Pipelines is pipeline execution history, newest first. A pipeline runner
// implements it; without one the page says there are no pipelines yet.
type Pipelines interface {
	PipelineExecutions(ctx context.Context, limit int) ([]PipelineExecution, error)
}

// PipelineExecution is one run of a pipeline.
type PipelineExecution struct {
	ID       string
	Pipeline string
	Status   string // Executing, Succeeded, Failed, Stopped (SageMaker's statuses)
	Started  time.Time
	Finished time.Time // zero while running
	Steps    []PipelineStep
}

// PipelineStep is one step of an execution.
type PipelineStep struct {
	Name      string
	Type      string // Training, Processing, Condition, RegisterModel, ...
	Status    string // Starting, Executing, Succeeded, Failed, Stopped, (empty: not run)
	DependsOn []string
	Started   time.Time
	Finished  time.Time
	CacheHit  bool
	// Condition is a condition step's outcome ("true" or "false").
	Condition string
	Error     string
	// Log is the tail of the step's log.
	Log string
}

// Duration is how long the step ran (zero when it did not finish).
func (s PipelineStep) Duration() time.Duration {
	if s.Started.IsZero() || s.Finished.IsZero() {
		return 0
	}
	return s.Finished.Sub(s.Started).Round(time.Millisecond)
}

// Duration is how long the execution ran.
func (e PipelineExecution) Duration() time.Duration {
	if e.Started.IsZero() || e.Finished.IsZero() {
		return 0
	}
	return e.Finished.Sub(e.Started).Round(time.Millisecond)
}

// graphNode is a step placed in the step graph.
type graphNode struct {
	PipelineStep
	X, Y float64
}

type graphEdge struct{ X1, Y1, X2, Y2 float64 }

type stepGraph struct {
	Nodes []graphNode
	Edges []graphEdge
	W, H  float64
	NodeW float64
	NodeH float64
}

const (
	nodeW, nodeH = 150.0, 44.0
	gapX, gapY   = 40.0, 16.0
)

// layoutSteps places steps in columns by their depth in the dependency
// graph (a step sits right of everything it depends on). Unknown
// dependencies are ignored; cycles are broken at depth 64.
func layoutSteps(steps []PipelineStep) stepGraph {
	byName := map[string]int{}
	for i, s := range steps {
		byName[s.Name] = i
	}
	depth := make([]int, len(steps))
	for i := range depth {
		depth[i] = -1
	}
	var walk func(i, guard int) int
	walk = func(i, guard int) int {
		if depth[i] >= 0 {
			return depth[i]
		}
		if guard > 64 {
			return 0
		}
		d := 0
		for _, dep := range steps[i].DependsOn {
			if j, ok := byName[dep]; ok && j != i {
				d = max(d, walk(j, guard+1)+1)
			}
		}
		depth[i] = d
		return d
	}
	cols := map[int][]int{}
	maxD := 0
	for i := range steps {
		d := walk(i, 0)
		cols[d] = append(cols[d], i)
		maxD = max(maxD, d)
	}
	g := stepGraph{NodeW: nodeW, NodeH: nodeH}
	pos := make([]graphNode, len(steps))
	rows := 0
	for d := 0; d <= maxD; d++ {
		idx := cols[d]
		sort.Ints(idx)
		for r, i := range idx {
			pos[i] = graphNode{PipelineStep: steps[i], X: 4 + float64(d)*(nodeW+gapX), Y: 4 + float64(r)*(nodeH+gapY)}
		}
		rows = max(rows, len(idx))
	}
	g.Nodes = pos
	for i, s := range steps {
		for _, dep := range s.DependsOn {
			if j, ok := byName[dep]; ok && j != i {
				g.Edges = append(g.Edges, graphEdge{pos[j].X + nodeW, pos[j].Y + nodeH/2, pos[i].X, pos[i].Y + nodeH/2})
			}
		}
	}
	g.W = 8 + float64(maxD+1)*(nodeW+gapX) - gapX
	g.H = 8 + float64(max(rows, 1))*(nodeH+gapY) - gapY
	return g
}

type pipelineView struct {
	PipelineExecution
	Graph stepGraph
}

func (u *UI) pipelines(w http.ResponseWriter, r *http.Request) {
	b := &banners{}
	var views []pipelineView
	if u.o.Pipelines != nil {
		ctx, cancel := context.WithTimeout(r.Context(), sourceTimeout)
		defer cancel()
		ex, err := u.o.Pipelines.PipelineExecutions(ctx, 20)
		if err != nil {
			b.add("Pipeline history unavailable: %v", err)
		}
		for _, e := range ex {
			views = append(views, pipelineView{e, layoutSteps(e.Steps)})
		}
	}
	sel := r.URL.Query().Get("execution")
	var selected *pipelineView
	for i := range views {
		if views[i].ID == sel || (sel == "" && selected == nil) {
			selected = &views[i]
		}
	}
	u.render(w, r, "pipelines", "Pipelines", map[string]any{"Executions": views, "Selected": selected, "Available": u.o.Pipelines != nil}, b)
}
