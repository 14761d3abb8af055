package pyfmt

import (
	"math"
	"strconv"
	"testing"
)

// The wanted strings are what CPython 3.11 prints for repr(v).
func TestFloat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{2.5, "2.5"},
		{-3, "-3.0"},
		{0.1, "0.1"},
		{1.0 / 3, "0.3333333333333333"},
		{0.0001, "0.0001"},
		{0.00001, "1e-05"},
		{1.5e-7, "1.5e-07"},
		{123456789, "123456789.0"},
		{1e15, "1000000000000000.0"},
		{1234567890123456, "1234567890123456.0"},
		{9999999999999998, "9999999999999998.0"},
		{1e16, "1e+16"},
		{1e22, "1e+22"},
		{1e100, "1e+100"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.NaN(), "nan"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
	} {
		if got := Float(c.v); got != c.want {
			t.Errorf("Float(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}

// TestFloatRoundTrips checks that the printed digits read back as the same float64.
func TestFloatRoundTrips(t *testing.T) {
	for _, v := range []float64{math.Pi, -math.E * 1e-9, 0.9405090880450124, 6.02214076e23, math.SmallestNonzeroFloat64, 1e-4 + 1e-20} {
		back, err := strconv.ParseFloat(Float(v), 64)
		if err != nil || back != v {
			t.Errorf("Float(%v) = %q reads back as %v (%v)", v, Float(v), back, err)
		}
	}
}

func TestList(t *testing.T) {
	if got, want := List([]float64{1, 2, 3, 4}), "[1.0, 2.0, 3.0, 4.0]"; got != want {
		t.Errorf("List = %q, want %q", got, want)
	}
	if got := List(nil); got != "[]" {
		t.Errorf("List(nil) = %q, want []", got)
	}
}
