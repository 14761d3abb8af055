package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// runMatvec runs the program on p in-process ranks and returns rank 0's output.
func runMatvec(p int, o options) (string, error) {
	var out string
	err := inproc.Run(p, func(c *comm.Comm) error {
		var w bytes.Buffer
		err := matvec(c, o, &w)
		if c.Rank() == 0 {
			out = w.String()
		}
		return err
	})
	return out, err
}

func TestMatvecRandom(t *testing.T) {
	for p := 1; p <= 8; p++ {
		for _, n := range []int{0, 1, 3, 16, 37} {
			out, err := runMatvec(p, options{n: n, seed: 3})
			if err != nil {
				t.Errorf("p=%d n=%d: %v", p, n, err)
				continue
			}
			if !strings.Contains(out, "max |y - A x| = ") {
				t.Errorf("p=%d n=%d: output %q lacks the error line", p, n, out)
			}
		}
	}
}

// TestMatvecNpy writes A and x as .npy files with known y = A x and checks the printed y.
func TestMatvecNpy(t *testing.T) {
	dir := t.TempDir()
	// A[i][j] = i+1 if j == i, 1 if j == i+1, else 0; x[j] = j+1: y[i] = (i+1)² + (i+2), last row (i+1)².
	const n = 5
	a := mat.NewDense(n, n, nil)
	x := make([]float64, n)
	for i := 0; i < n; i++ {
		a.Set(i, i, float64(i+1))
		if i+1 < n {
			a.Set(i, i+1, 1)
		}
		x[i] = float64(i + 1)
	}
	write := func(name string, v any) string {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := npyio.Write(f, v); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	o := options{aFile: write("random-matrix.npy", a), xFile: write("random-vector.npy", x)}
	for p := 1; p <= 8; p++ {
		out, err := runMatvec(p, o)
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		if want := "y = [3 7 13 21 25]\nmax |y - A x| = 0\n"; out != want {
			t.Errorf("p=%d: output %q, want %q", p, out, want)
		}
	}
	bad := o
	bad.xFile = write("short.npy", x[:3])
	if _, err := runMatvec(2, bad); err == nil || !strings.Contains(err.Error(), "5×5") {
		t.Errorf("A 5×5 with x of 3: error %v, want one naming the shapes", err)
	}
	bad.xFile = write("float32.npy", []float32{1, 2, 3, 4, 5})
	if _, err := runMatvec(2, bad); err == nil || !strings.Contains(err.Error(), "<f4") || !strings.Contains(err.Error(), "float64") {
		t.Errorf("x of float32: error %v, want one naming the element type", err)
	}
}

func TestRowBlocks(t *testing.T) {
	first, rows := rowBlocks(7, 3)
	if got := fmt.Sprint(first, rows); got != "[0 3 5] [3 2 2]" {
		t.Errorf("rowBlocks(7, 3) = %s, want [0 3 5] [3 2 2]", got)
	}
}
