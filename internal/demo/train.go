// Package demo builds Bridge's example model: a multinomial logistic
// regression trained in Go, by gradient descent, on the Iris dataset shipped
// in data/iris.csv (UCI Machine Learning Repository, CC BY 4.0; see
// data/README.md), written as an MLflow model directory of flavor
// bridge_linear, and seeds a registry with it through the MLflow REST API.
package demo

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// irisCSV is the Iris dataset: UCI Machine Learning Repository, "Iris"
// (R. A. Fisher, 1936), CC BY 4.0. See data/README.md.
//
//go:embed data/iris.csv
var irisCSV []byte

// Dataset is a table of numeric features and a class label per row.
type Dataset struct {
	Features []string    // column names
	X        [][]float64 // rows × features
	Y        []string    // class label per row
}

// Iris returns the Iris dataset shipped with Bridge.
func Iris() (Dataset, error) { return ParseCSV(irisCSV) }

// ParseCSV reads a CSV with a header row, numeric feature columns and the
// class label in the last column.
func ParseCSV(b []byte) (Dataset, error) {
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		return Dataset{}, fmt.Errorf("read dataset: %w", err)
	}
	if len(recs) < 2 || len(recs[0]) < 2 {
		return Dataset{}, errors.New("dataset needs a header and at least one row of features and a label")
	}
	nf := len(recs[0]) - 1
	d := Dataset{Features: recs[0][:nf]}
	for i, r := range recs[1:] {
		row := make([]float64, nf)
		for j := 0; j < nf; j++ {
			if row[j], err = strconv.ParseFloat(r[j], 64); err != nil {
				return Dataset{}, fmt.Errorf("dataset row %d column %s: %w", i+2, d.Features[j], err)
			}
		}
		d.X = append(d.X, row)
		d.Y = append(d.Y, r[nf])
	}
	return d, nil
}

// Logistic is a multinomial logistic regression in the bridge_linear
// model.json form: one coefficient row and intercept per class; the
// prediction is the class with the largest decision value.
type Logistic struct {
	Kind         string      `json:"kind"`
	Coefficients [][]float64 `json:"coefficients"`
	Intercepts   []float64   `json:"intercepts"`
	Classes      []string    `json:"classes"`
	FeatureNames []string    `json:"feature_names,omitempty"`
}

// TrainOptions control gradient descent.
type TrainOptions struct {
	Epochs       int     // full-batch steps; default 500
	LearningRate float64 // default 0.5
	L2           float64 // ridge penalty on coefficients; default 1e-3
}

// Train fits a multinomial logistic regression by full-batch gradient
// descent on standardised features (softmax cross-entropy with an L2
// penalty), then folds the standardisation into the coefficients so the
// model takes raw features. Deterministic: same data, same model.
func Train(d Dataset, opts TrainOptions) (Logistic, error) {
	if opts.Epochs <= 0 {
		opts.Epochs = 500
	}
	if opts.LearningRate <= 0 {
		opts.LearningRate = 0.5
	}
	if opts.L2 < 0 {
		return Logistic{}, errors.New("L2 must not be negative")
	}
	if opts.L2 == 0 {
		opts.L2 = 1e-3
	}
	n := len(d.X)
	if n == 0 {
		return Logistic{}, errors.New("cannot train on an empty dataset")
	}
	nf := len(d.Features)
	var classes []string
	index := map[string]int{}
	y := make([]int, n)
	for i, c := range d.Y {
		k, ok := index[c]
		if !ok {
			k = len(classes)
			index[c] = k
			classes = append(classes, c)
		}
		y[i] = k
	}
	if len(classes) < 2 {
		return Logistic{}, errors.New("need at least two classes to train a classifier")
	}
	nc := len(classes)

	// Standardise.
	mean, std := make([]float64, nf), make([]float64, nf)
	for _, row := range d.X {
		if len(row) != nf {
			return Logistic{}, fmt.Errorf("row has %d features, want %d", len(row), nf)
		}
		for j, v := range row {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for _, row := range d.X {
		for j, v := range row {
			std[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(n))
		if std[j] == 0 {
			std[j] = 1
		}
	}
	z := make([][]float64, n)
	for i, row := range d.X {
		z[i] = make([]float64, nf)
		for j, v := range row {
			z[i][j] = (v - mean[j]) / std[j]
		}
	}

	w := make([][]float64, nc)
	gw := make([][]float64, nc)
	for k := range w {
		w[k] = make([]float64, nf)
		gw[k] = make([]float64, nf)
	}
	b, gb := make([]float64, nc), make([]float64, nc)
	p := make([]float64, nc)
	for epoch := 0; epoch < opts.Epochs; epoch++ {
		for k := range gw {
			clear(gw[k])
		}
		clear(gb)
		for i, x := range z {
			softmax(w, b, x, p)
			for k := 0; k < nc; k++ {
				g := p[k]
				if k == y[i] {
					g--
				}
				gb[k] += g
				for j, v := range x {
					gw[k][j] += g * v
				}
			}
		}
		for k := 0; k < nc; k++ {
			b[k] -= opts.LearningRate * gb[k] / float64(n)
			for j := range w[k] {
				w[k][j] -= opts.LearningRate * (gw[k][j]/float64(n) + opts.L2*w[k][j])
			}
		}
	}

	// Fold standardisation: w·(x-m)/s + b = (w/s)·x + (b - Σ w m / s).
	m := Logistic{Kind: "logistic_regression", Classes: classes, FeatureNames: append([]string(nil), d.Features...)}
	for k := 0; k < nc; k++ {
		row := make([]float64, nf)
		icpt := b[k]
		for j := range row {
			row[j] = w[k][j] / std[j]
			icpt -= w[k][j] * mean[j] / std[j]
		}
		m.Coefficients = append(m.Coefficients, row)
		m.Intercepts = append(m.Intercepts, icpt)
	}
	return m, nil
}

func softmax(w [][]float64, b, x, p []float64) {
	hi := math.Inf(-1)
	for k := range w {
		s := b[k]
		for j, v := range x {
			s += w[k][j] * v
		}
		p[k] = s
		hi = max(hi, s)
	}
	var sum float64
	for k := range p {
		p[k] = math.Exp(p[k] - hi)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}

// Predict returns the class of one row of raw features.
func (m Logistic) Predict(x []float64) string {
	best, bestK := math.Inf(-1), 0
	for k, row := range m.Coefficients {
		s := m.Intercepts[k]
		for j, v := range x {
			s += row[j] * v
		}
		if s > best {
			best, bestK = s, k
		}
	}
	return m.Classes[bestK]
}

// Accuracy is the share of rows of d that m classifies right.
func (m Logistic) Accuracy(d Dataset) float64 {
	if len(d.X) == 0 {
		return 0
	}
	right := 0
	for i, x := range d.X {
		if m.Predict(x) == d.Y[i] {
			right++
		}
	}
	return float64(right) / float64(len(d.X))
}
