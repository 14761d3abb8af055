package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/examples/internal/pyfmt"
	"github.com/gompi/gompi/transport/inproc"
)

// runHybrid runs the program on p in-process ranks and returns rank 0's output; the other
// ranks must print nothing.
func runHybrid(p int, o options) (string, error) {
	var out string
	err := inproc.Run(p, func(c *comm.Comm) error {
		var w bytes.Buffer
		err := hybrid(c, o, &w)
		if c.Rank() == 0 {
			out = w.String()
		} else if w.Len() != 0 {
			return fmt.Errorf("rank %d printed %q", c.Rank(), w.String())
		}
		return err
	})
	return out, err
}

// TestHybrid runs every mix of 1..4 ranks and 1..3 goroutines, with matrices smaller and larger
// than the number of workers: the program's own check (y equal to the serial product, bit for
// bit) must pass, and the output must name the mix.
func TestHybrid(t *testing.T) {
	for p := 1; p <= 4; p++ {
		for threads := 1; threads <= 3; threads++ {
			for _, n := range []int{1, 5, 37} {
				out, err := runHybrid(p, options{n: n, seed: 2, threads: threads, repeat: 2})
				if err != nil {
					t.Errorf("p=%d threads=%d n=%d: %v", p, threads, n, err)
					continue
				}
				want := fmt.Sprintf("y = A x for N = %d on %d rank", n, p)
				if !strings.HasPrefix(out, want) || !strings.Contains(out, fmt.Sprintf("× %d goroutine", threads)) ||
					!strings.Contains(out, "max |y - serial y| = 0 (bit for bit)") || !strings.Contains(out, "speed-up") {
					t.Errorf("p=%d threads=%d n=%d: output %q", p, threads, n, out)
				}
			}
		}
	}
}

// TestThreaded checks the goroutines' product against a hand-computed one: A[i][j] = i+j+1
// (3×3), x = (1, 2, 3) gives y = (14, 20, 26).
func TestThreaded(t *testing.T) {
	a := []float64{1, 2, 3, 2, 3, 4, 3, 4, 5}
	x := []float64{1, 2, 3}
	for threads := 1; threads <= 4; threads++ {
		y := make([]float64, 3)
		threaded(a, 3, x, y, threads)
		if got := fmt.Sprint(y); got != "[14 20 26]" {
			t.Errorf("%d goroutines: y = %s, want [14 20 26]", threads, got)
		}
	}
}

// TestSameInputAsMatvec: the matrix and vector are examples/matvec's for the same -n and -seed,
// so the products agree; `go run ./examples/matvec -n 3 -seed 1` prints
// y = [0.1532720520167652, 0.5114096527553338, 0.4111624113619965].
func TestSameInputAsMatvec(t *testing.T) {
	a, x := input(3, 1)
	y := make([]float64, 3)
	rows(a, 3, x, y)
	if got, want := pyfmt.List(y), "[0.1532720520167652, 0.5114096527553338, 0.4111624113619965]"; got != want {
		t.Errorf("y = %s, matvec's is %s", got, want)
	}
}

func TestDefaultThreads(t *testing.T) {
	out, err := runHybrid(2, options{n: 4, seed: 1, threads: 0, repeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "× 0 goroutine") {
		t.Errorf("-threads 0 should mean GOMAXPROCS: %q", out)
	}
}

func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		o    options
		want string
	}{
		{options{n: 0, threads: 1, repeat: 1}, "-n 0"},
		{options{n: 4, threads: -1, repeat: 1}, "-threads -1"},
		{options{n: 1 << 32, threads: 1, repeat: 1}, "-n 4294967296: an N×N matrix of float64 takes 8·N² bytes, here 1.48e+08 TB"},
		{options{n: 4, threads: 1, repeat: 0}, "-repeat 0"},
	} {
		_, err := runHybrid(3, c.o)
		if err == nil || strings.Count(err.Error(), c.want) != 3 {
			t.Errorf("%+v: error %v, want every rank to say %q", c.o, err, c.want)
		}
	}
}
