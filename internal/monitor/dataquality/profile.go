// Package dataquality profiles tabular data into SageMaker Model Monitor's
// data-quality statistics, suggests constraints from a baseline profile, and
// checks a window's profile against a baseline's statistics and constraints,
// producing constraint violations. It is pure: rows come in as byte fields,
// documents go out as schema values.
package dataquality

import (
	"bytes"
	"strconv"

	"github.com/bridgeops/bridge/internal/monitor/schema"
	"github.com/bridgeops/bridge/internal/monitor/stats"
)

// Mode tells a feature accumulator what to track.
type Mode int

const (
	// Infer tracks everything, to infer the feature's type (baselines).
	Infer Mode = iota
	// Numeric tracks numerical statistics only (type known: Integral or
	// Fractional); non-numeric values are counted as type mismatches.
	Numeric
	// Categorical tracks string statistics only (type known: String).
	Categorical
)

// featureAcc accumulates one feature.
type featureAcc struct {
	name    string
	mode    Mode
	present int64
	missing int64
	nInt    int64
	nFrac   int64
	nStr    int64
	mom     stats.Moments
	kll     *stats.KLL
	// string statistics (Infer and Categorical)
	distinct *stats.Distinct
	top      *stats.TopValues
}

func newFeatureAcc(name string, mode Mode) *featureAcc {
	f := &featureAcc{name: name, mode: mode}
	if mode != Categorical {
		f.kll = stats.NewKLL(stats.DefaultK, stats.DefaultC)
	}
	if mode != Numeric {
		f.distinct = &stats.Distinct{}
		f.top = stats.NewTopValues(stats.DefaultTopValues)
	}
	return f
}

// IsMissing reports whether a field is a missing value: empty, or one of
// the spellings pandas reads as NaN by default that are common in captures.
func IsMissing(b []byte) bool {
	switch len(b) {
	case 0:
		return true
	case 3:
		return string(b) == "NaN" || string(b) == "nan" || string(b) == "N/A"
	case 4:
		return string(b) == "null" || string(b) == "NULL" || string(b) == "None"
	}
	return false
}

// classify returns the value's type and, when numeric, its value.
func classify(b []byte) (typ string, v float64) {
	if isIntegral(b) {
		if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return schema.TypeIntegral, float64(i)
		}
		if f, err := strconv.ParseFloat(string(b), 64); err == nil {
			return schema.TypeIntegral, f
		}
	}
	if looksNumeric(b) {
		if f, err := strconv.ParseFloat(string(b), 64); err == nil && f == f && f-f == 0 {
			return schema.TypeFractional, f
		}
	}
	return schema.TypeString, 0
}

func isIntegral(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func looksNumeric(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	c := b[0]
	return c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9')
}

func (f *featureAcc) add(b []byte) {
	b = bytes.TrimSpace(b)
	if IsMissing(b) {
		f.missing++
		return
	}
	f.present++
	typ, v := classify(b)
	switch typ {
	case schema.TypeIntegral:
		f.nInt++
	case schema.TypeFractional:
		f.nFrac++
	default:
		f.nStr++
	}
	if typ != schema.TypeString && f.mode != Categorical {
		f.mom.Add(v)
		f.kll.Add(v)
	}
	if f.mode != Numeric {
		f.distinct.AddHash(hashBytes(b))
		f.top.AddBytes(b)
	}
}

func (f *featureAcc) merge(o *featureAcc) {
	f.present += o.present
	f.missing += o.missing
	f.nInt += o.nInt
	f.nFrac += o.nFrac
	f.nStr += o.nStr
	f.mom.Merge(&o.mom)
	if f.kll != nil {
		f.kll.Merge(o.kll)
	}
	if f.distinct != nil {
		f.distinct.Merge(o.distinct)
		f.top.Merge(o.top)
	}
}

// inferredType is the type of the feature: Unknown with no values, String
// if any present value is not a number, Fractional if any has a fraction,
// else Integral.
func (f *featureAcc) inferredType() string {
	switch {
	case f.present == 0:
		return schema.TypeUnknown
	case f.nStr > 0:
		return schema.TypeString
	case f.nFrac > 0:
		return schema.TypeFractional
	}
	return schema.TypeIntegral
}

// Profile accumulates rows of a dataset or of a window of captured traffic.
// It is not safe for concurrent use: give each goroutine its own (NewLike)
// and Merge them.
type Profile struct {
	features []*featureAcc
	items    int64
	// rows with fewer / more fields than features
	shortRows, longRows int64
}

// Spec names a feature and what to track for it.
type Spec struct {
	Name string
	Mode Mode
}

// NewProfile returns an empty profile of the given features.
func NewProfile(specs []Spec) *Profile {
	p := &Profile{}
	for _, s := range specs {
		p.features = append(p.features, newFeatureAcc(s.Name, s.Mode))
	}
	return p
}

// SpecsFromBaseline tracks each baseline feature in the mode its type needs.
func SpecsFromBaseline(st *schema.Statistics) []Spec {
	specs := make([]Spec, len(st.Features))
	for i, f := range st.Features {
		specs[i] = Spec{Name: f.Name, Mode: ModeFor(f.InferredType)}
	}
	return specs
}

// ModeFor returns the tracking mode for a feature of the inferred type.
func ModeFor(inferredType string) Mode {
	switch inferredType {
	case schema.TypeIntegral, schema.TypeFractional:
		return Numeric
	case schema.TypeString:
		return Categorical
	}
	return Infer
}

// NewLike returns an empty profile with p's features.
func (p *Profile) NewLike() *Profile {
	specs := make([]Spec, len(p.features))
	for i, f := range p.features {
		specs[i] = Spec{f.name, f.mode}
	}
	return NewProfile(specs)
}

// Names returns the feature names, in order.
func (p *Profile) Names() []string {
	out := make([]string, len(p.features))
	for i, f := range p.features {
		out[i] = f.name
	}
	return out
}

// AddRow adds one row whose fields are in feature order. Missing trailing
// fields count as missing values; extra fields are ignored; both are
// counted for the column checks.
func (p *Profile) AddRow(fields [][]byte) {
	p.items++
	if len(fields) < len(p.features) {
		p.shortRows++
	} else if len(fields) > len(p.features) {
		p.longRows++
	}
	for i, f := range p.features {
		if i < len(fields) {
			f.add(fields[i])
		} else {
			f.missing++
		}
	}
}

// AddFields adds one row whose fields are already in feature order (nil:
// missing), from a record that named its columns; short and long tell
// whether the record lacked baseline columns or had others.
func (p *Profile) AddFields(fields [][]byte, short, long bool) {
	p.items++
	if short {
		p.shortRows++
	}
	if long {
		p.longRows++
	}
	for i, f := range p.features {
		if i < len(fields) && fields[i] != nil {
			f.add(fields[i])
		} else {
			f.missing++
		}
	}
}

// Merge folds o (built with the same features) into p.
func (p *Profile) Merge(o *Profile) {
	p.items += o.items
	p.shortRows += o.shortRows
	p.longRows += o.longRows
	for i, f := range p.features {
		f.merge(o.features[i])
	}
}

// Items is the number of rows added.
func (p *Profile) Items() int64 { return p.items }

// Statistics renders the profile as statistics.json. Numerical features get
// 10 equal-width KLL buckets between min and max and the sketch; string
// features their distinct count and the most frequent values.
func (p *Profile) Statistics() *schema.Statistics {
	st := &schema.Statistics{Version: 0, Dataset: schema.Dataset{ItemCount: p.items}}
	for _, f := range p.features {
		typ := f.inferredType()
		switch f.mode {
		case Numeric:
			if typ == schema.TypeString || typ == schema.TypeUnknown {
				typ = schema.TypeFractional
				if f.nFrac == 0 && f.nInt > 0 {
					typ = schema.TypeIntegral
				}
			}
		case Categorical:
			typ = schema.TypeString
		}
		feat := schema.Feature{Name: f.name, InferredType: typ}
		common := schema.Common{NumPresent: f.present, NumMissing: f.missing}
		if typ == schema.TypeString || (typ == schema.TypeUnknown && f.mode != Numeric) {
			ss := &schema.StringStats{Common: common}
			if f.distinct != nil {
				ss.DistinctCount = float64(f.distinct.Count())
				buckets := []schema.CategoricalBucket{}
				for _, vc := range f.top.Top(0) {
					buckets = append(buckets, schema.CategoricalBucket{Value: vc.Value, Count: vc.Count})
				}
				ss.Distribution = &schema.StrDistribution{Categorical: schema.Categorical{Buckets: buckets}}
			}
			feat.String = ss
		} else {
			ns := &schema.NumericalStats{Common: common}
			if f.mom.N > 0 {
				ns.Mean, ns.Sum, ns.StdDev, ns.Min, ns.Max = f.mom.Mean(), f.mom.Sum(), f.mom.StdDev(), f.mom.Min, f.mom.Max
			}
			ns.Common.NumPresent = f.mom.N
			ns.Common.NumMissing = f.missing + (f.present - f.mom.N)
			buckets := []schema.KLLBucket{}
			for _, b := range f.kll.Buckets(f.mom.Min, f.mom.Max, 10) {
				buckets = append(buckets, schema.KLLBucket{LowerBound: b.Lower, UpperBound: b.Upper, Count: b.Count})
			}
			ns.Distribution = &schema.NumDistribution{KLL: schema.KLLDistribution{
				Buckets: buckets,
				Sketch: schema.KLLSketch{
					Parameters: schema.KLLParameters{C: f.kll.C(), K: float64(f.kll.K())},
					Data:       f.kll.Data(),
				},
			}}
			feat.Numerical = ns
		}
		st.Features = append(st.Features, feat)
	}
	return st
}

// observation is what the checks need beyond statistics.json.
type observation struct {
	present, missing int64
	conforming       int64 // present values of the baseline's type
	kll              *stats.KLL
	top              *stats.TopValues
	min              float64
	hasNumbers       bool
}

func (p *Profile) observe(i int, baselineType string) observation {
	f := p.features[i]
	o := observation{present: f.present, missing: f.missing, kll: f.kll, top: f.top, min: f.mom.Min, hasNumbers: f.mom.N > 0}
	switch baselineType {
	case schema.TypeIntegral:
		o.conforming = f.nInt
	case schema.TypeFractional:
		o.conforming = f.nInt + f.nFrac
	default:
		o.conforming = f.present
	}
	return o
}
