package trees

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// syntheticForest is a random forest of n complete trees of the given depth
// over nf features, two classes.
func syntheticForest(n, depth, nf int) *File {
	rng := rand.New(rand.NewPCG(1, 2))
	f := &File{Format: FormatName, Version: FormatVersion, NumFeatures: nf}
	f.Model = EnsembleSpec{Kind: "trees", Split: "le32", Combine: "average", Outputs: 2, LeafWidth: 2, Link: LinkProba,
		Classes: []json.RawMessage{json.RawMessage("0"), json.RawMessage("1")}}
	nodes := 1<<(depth+1) - 1
	for range n {
		var t Tree
		for i := range nodes {
			if l := 2*i + 1; l < nodes {
				t.Feature = append(t.Feature, rng.IntN(nf))
				t.Threshold = append(t.Threshold, Number(rng.NormFloat64()))
				t.Left, t.Right = append(t.Left, l), append(t.Right, l+1)
				t.Value = append(t.Value, 0, 0)
			} else {
				p := rng.Float64()
				t.Feature, t.Threshold = append(t.Feature, 0), append(t.Threshold, 0)
				t.Left, t.Right = append(t.Left, -1), append(t.Right, -1)
				t.Value = append(t.Value, p, 1-p)
			}
		}
		f.Model.Trees = append(f.Model.Trees, t)
	}
	return f
}

// BenchmarkForestRow measures one row through a 100-tree, depth-10 forest
// (the evaluator alone, without HTTP).
func BenchmarkForestRow(b *testing.B) {
	e, err := Compile(syntheticForest(100, 10, 20))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([][]float64, 1024)
	for i := range rows {
		rows[i] = make([]float64, 20)
		for j := range rows[i] {
			rows[i][j] = rng.NormFloat64()
		}
	}
	s := scratch{raw: make([]float64, 2)}
	p := make([]float64, 2)
	b.ResetTimer()
	for i := range b.N {
		e.predictRow(rows[i%len(rows)], p, &s)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
