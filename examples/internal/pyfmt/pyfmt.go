// Package pyfmt prints numbers the way Python does, so that a lecture example's output reads
// like its mpi4py original and a float never looks like an integer: 1.0 and not 1,
// [1.0, 2.0, 3.0, 4.0] and not [1 2 3 4]. The digits are the shortest that read back as the same
// float64 (Python's repr, Go's strconv with precision -1), so a printed number can be compared
// with NumPy's to the last bit.
package pyfmt

import (
	"math"
	"strconv"
	"strings"
)

// Float formats v as Python's repr(v) does: the shortest digits that round-trip, positional
// notation with at least one digit after the point for 1e-4 <= |v| < 1e16 (and for 0), and
// exponent notation with a two-digit exponent outside it; nan, inf and -inf for the rest.
func Float(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(v, 'e', -1, 64)
	exp, err := strconv.Atoi(s[strings.LastIndexByte(s, 'e')+1:])
	if err != nil {
		panic("pyfmt: strconv wrote an exponent it cannot read back: " + s)
	}
	if exp < -4 || exp >= 16 { // CPython's float_repr_style 'short' switches at the same places
		return s
	}
	s = strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// List formats v as Python prints a list of floats: [1.0, 2.5, 0.1].
func List(v []float64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(Float(x))
	}
	b.WriteByte(']')
	return b.String()
}
