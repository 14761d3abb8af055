package main

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// runPsum runs the program on p in-process ranks and returns rank 0's output; the other ranks
// must print nothing.
func runPsum(p int, o options) (string, error) {
	var out string
	err := inproc.Run(p, func(c *comm.Comm) error {
		var w bytes.Buffer
		err := psum(c, o, &w)
		if c.Rank() == 0 {
			out = w.String()
		} else if w.Len() != 0 {
			return fmt.Errorf("rank %d printed %q", c.Rank(), w.String())
		}
		return err
	})
	return out, err
}

// sums parses "sum = S , serial sum = T".
func sums(out string) (s, serial float64, err error) {
	_, err = fmt.Sscanf(out, "sum = %g , serial sum = %g\n", &s, &serial)
	return s, serial, err
}

func TestPsum(t *testing.T) {
	for p := 1; p <= 8; p++ {
		for _, n := range []int{0, 1, 5, 128, 1001} {
			out, err := runPsum(p, options{n: n, seed: 42})
			if err != nil {
				t.Errorf("p=%d n=%d: %v", p, n, err)
				continue
			}
			s, _, err := sums(out)
			if err != nil {
				t.Errorf("p=%d n=%d: output %q: %v", p, n, out, err)
				continue
			}
			// The expected mean of n uniform numbers is n/2; a wrong sum (a block lost or
			// counted twice) is off by at least the smallest element.
			if n >= 128 && (s < 0.4*float64(n) || s > 0.6*float64(n)) {
				t.Errorf("p=%d n=%d: sum %g is implausible", p, n, s)
			}
		}
	}
}

// exactSum returns the sum of v rounded once to float64, computed exactly in between.
func exactSum(v []float64) float64 {
	acc := new(big.Float).SetPrec(4096)
	for _, x := range v {
		acc.Add(acc, big.NewFloat(x))
	}
	f, _ := acc.Float64()
	return f
}

// TestPsumNpy reads 1001-element vectors from .npy files, one written here with npyio and one
// written by NumPy, and checks the parallel sum against the exact sum and NumPy's to 1e-12.
func TestPsumNpy(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(14, 0))
	v := make([]float64, 1001)
	for i := range v {
		v[i] = rng.Float64() * math.Pow(10, float64(i%5-2)) // 1e-2 .. 1e2: the order matters
	}
	written := filepath.Join(dir, "random-vector.npy")
	f, err := os.Create(written)
	if err != nil {
		t.Fatal(err)
	}
	if err := npyio.Write(f, v); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file string
		want float64 // the reference sum
		what string
	}{
		{written, exactSum(v), "exact sum"},
		// testdata/random-vector-1001.npy: numpy.save of
		// numpy.random.default_rng(14).random(1001) (NumPy 1.24); repr(numpy.load(...).sum())
		// printed 504.8421121872998 (the exact sum rounds to 504.84211218729985).
		{filepath.Join("testdata", "random-vector-1001.npy"), 504.8421121872998, "NumPy's sum"},
	} {
		for p := 1; p <= 5; p++ {
			out, err := runPsum(p, options{xFile: c.file})
			if err != nil {
				t.Errorf("%s p=%d: %v", c.file, p, err)
				continue
			}
			s, serial, err := sums(out)
			if err != nil {
				t.Errorf("%s p=%d: output %q: %v", c.file, p, out, err)
				continue
			}
			for _, got := range []float64{s, serial} {
				if d := math.Abs(got - c.want); d > 1e-12*math.Abs(c.want) {
					t.Errorf("%s p=%d: sum %v differs from the %s %v by %g (relative %g > 1e-12)", c.file, p, got, c.what, c.want, d, d/c.want)
				}
			}
		}
	}
}

func TestPsumBadInput(t *testing.T) {
	dir := t.TempDir()
	ints := filepath.Join(dir, "ints.npy")
	f, err := os.Create(ints)
	if err != nil {
		t.Fatal(err)
	}
	if err := npyio.Write(f, []int64{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		name string
		o    options
		want []string
	}{
		{"int64 file", options{xFile: ints}, []string{"psum: -x", "ints.npy", "<i8 (int64)", "shape (3,)", "want a vector of float64"}},
		{"missing file", options{xFile: filepath.Join(dir, "nosuch.npy")}, []string{"psum: -x", "nosuch.npy", "no such file"}},
		{"-x and -n", options{xFile: ints, n: 10, generatorFlags: true}, []string{"-x reads the vector from a file", "-n and -seed"}},
		{"negative -n", options{n: -1}, []string{"-n -1 is negative"}},
	} {
		for _, p := range []int{1, 3} {
			_, err := runPsum(p, c.o)
			if err == nil {
				t.Errorf("%s p=%d: no error", c.name, p)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s p=%d: error %q does not say %q", c.name, p, err, w)
				}
			}
		}
	}
}
