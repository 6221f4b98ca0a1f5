package stats

import "math"

// Moments accumulates count, sum, mean, variance, min and max of a stream in
// one pass with Welford's update, merged with Chan et al.'s parallel formula.
// The sum is compensated (Neumaier) so it stays exact to the last bits for
// long streams. The zero value is empty and ready to use.
type Moments struct {
	N        int64
	mean     float64
	m2       float64
	sum, cmp float64 // Neumaier-compensated sum
	Min, Max float64
}

// Add adds one observation.
func (m *Moments) Add(x float64) {
	m.N++
	if m.N == 1 {
		m.Min, m.Max = x, x
	} else {
		if x < m.Min {
			m.Min = x
		}
		if x > m.Max {
			m.Max = x
		}
	}
	d := x - m.mean
	m.mean += d / float64(m.N)
	m.m2 += d * (x - m.mean)
	m.addSum(x)
}

func (m *Moments) addSum(x float64) {
	t := m.sum + x
	if math.Abs(m.sum) >= math.Abs(x) {
		m.cmp += (m.sum - t) + x
	} else {
		m.cmp += (x - t) + m.sum
	}
	m.sum = t
}

// Merge folds o into m (Chan, Golub and LeVeque's pairwise update).
func (m *Moments) Merge(o *Moments) {
	if o.N == 0 {
		return
	}
	if m.N == 0 {
		*m = *o
		return
	}
	n := float64(m.N + o.N)
	d := o.mean - m.mean
	m.mean += d * float64(o.N) / n
	m.m2 += o.m2 + d*d*float64(m.N)*float64(o.N)/n
	m.addSum(o.sum)
	m.addSum(o.cmp)
	m.N += o.N
	m.Min = math.Min(m.Min, o.Min)
	m.Max = math.Max(m.Max, o.Max)
}

// Mean is the arithmetic mean (0 when empty).
func (m *Moments) Mean() float64 { return m.mean }

// Sum is the compensated sum of the observations.
func (m *Moments) Sum() float64 { return m.sum + m.cmp }

// Variance is the population variance (divisor N), as SageMaker Model
// Monitor (Deequ's stddev_pop) reports it.
func (m *Moments) Variance() float64 {
	if m.N == 0 {
		return 0
	}
	return m.m2 / float64(m.N)
}

// SampleVariance is the unbiased variance (divisor N-1).
func (m *Moments) SampleVariance() float64 {
	if m.N < 2 {
		return 0
	}
	return m.m2 / float64(m.N-1)
}

// StdDev is the population standard deviation.
func (m *Moments) StdDev() float64 { return math.Sqrt(m.Variance()) }
