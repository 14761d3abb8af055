package main

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// runMontecarlo runs the program on p in-process ranks and returns rank 0's output lines; the
// other ranks must print nothing.
func runMontecarlo(p int, o options) ([]string, error) {
	var out string
	err := inproc.Run(p, func(c *comm.Comm) error {
		var w bytes.Buffer
		err := montecarlo(c, o, &w)
		if c.Rank() == 0 {
			out = w.String()
		} else if w.Len() != 0 {
			return fmt.Errorf("rank %d printed %q", c.Rank(), w.String())
		}
		return err
	})
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n"), err
}

// estimate parses the first line, "pi ≈ E from N points ...", into E (as printed) and N.
func estimate(t *testing.T, line string) (string, int64) {
	t.Helper()
	var e string
	var n int64
	if _, err := fmt.Sscanf(line, "pi ≈ %s from %d points", &e, &n); err != nil {
		t.Fatalf("first line %q: %v", line, err)
	}
	return e, n
}

// TestSameOnAnyRankCount checks that 1..5 ranks print the same estimate, to the last digit
// (each chunk of points has its own generator), for job sizes that do and do not fill the last
// chunk and that leave some ranks without a chunk, and that the estimate is close to π.
func TestSameOnAnyRankCount(t *testing.T) {
	for _, n := range []int64{1, 3 * chunk, 3*chunk + 17, 1_000_000} {
		var first string
		for p := 1; p <= 5; p++ {
			lines, err := runMontecarlo(p, options{n: n, seed: 3, round: 64, repeat: 1})
			if err != nil {
				t.Fatalf("n=%d p=%d: %v", n, p, err)
			}
			if len(lines) != 3 {
				t.Fatalf("n=%d p=%d: want 3 lines, got %q", n, p, lines)
			}
			e, points := estimate(t, lines[0])
			if points != n {
				t.Errorf("n=%d p=%d: %d points used", n, p, points)
			}
			if !strings.Contains(lines[0], fmt.Sprintf(" on %d rank", p)) || !strings.Contains(lines[0], "Reduce") {
				t.Errorf("n=%d p=%d: first line %q does not name the ranks and Reduce", n, p, lines[0])
			}
			if first == "" {
				first = e
			} else if e != first {
				t.Errorf("n=%d p=%d: estimate %s, on 1 rank %s", n, p, e, first)
			}
			v, err := strconv.ParseFloat(e, 64)
			if err != nil {
				t.Fatal(err)
			}
			// 1e6 points: standard error 0.0016, so 0.01 is 6 of them.
			if n == 1_000_000 && math.Abs(v-math.Pi) > 0.01 {
				t.Errorf("n=%d p=%d: estimate %v is far from π", n, p, v)
			}
		}
	}
}

// TestTolerance checks the rounds with Allreduce: every rank count stops after the same round,
// with the same estimate, once the standard error is at most -tol, and says so when -n runs out
// first.
func TestTolerance(t *testing.T) {
	var first []string
	for p := 1; p <= 4; p++ {
		lines, err := runMontecarlo(p, options{n: 1 << 26, seed: 5, tol: 2.1e-3, round: 2, repeat: 1})
		if err != nil {
			t.Fatalf("p=%d: %v", p, err)
		}
		e, n := estimate(t, lines[0])
		// The standard error is about 1.64/√points: 2.27e-3 after 4 rounds of 2 chunks, 2.03e-3
		// after 5.
		if !strings.Contains(lines[0], "in 5 rounds") || n != 5*2*chunk {
			t.Errorf("p=%d: first line %q: want 5 rounds, %d points", p, lines[0], 5*2*chunk)
		}
		var errPi, se float64
		if _, err := fmt.Sscanf(lines[1], "error = %g, standard error %g", &errPi, &se); err != nil || se > 2.1e-3 {
			t.Errorf("p=%d: second line %q: want a standard error ≤ 2.1e-3 (%v)", p, lines[1], err)
		}
		if first == nil {
			first = []string{e, lines[1]}
		} else if e != first[0] || lines[1] != first[1] {
			t.Errorf("p=%d: %s and %q, on 1 rank %s and %q", p, e, lines[1], first[0], first[1])
		}
	}
	lines, err := runMontecarlo(3, options{n: 1000, seed: 5, tol: 1e-4, round: 64, repeat: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 4 || !strings.Contains(lines[2], "still above -tol") {
		t.Errorf("-tol out of reach of -n: output %q does not say so", lines)
	}
}

func TestBadFlags(t *testing.T) {
	for _, c := range []struct {
		o    options
		want string
	}{
		{options{n: 0, round: 64, repeat: 1}, "-n 0: need at least one point"},
		{options{n: 10, tol: -1, round: 64, repeat: 1}, "-tol -1"},
		{options{n: 10, tol: math.NaN(), round: 64, repeat: 1}, "-tol NaN"},
		{options{n: 10, tol: 1e-3, round: 0, repeat: 1}, "-round 0"},
		{options{n: 10, round: 64, repeat: 0}, "-repeat 0"},
	} {
		_, err := runMontecarlo(3, c.o)
		if err == nil || strings.Count(err.Error(), c.want) != 3 {
			t.Errorf("%+v: error %v, want every rank to say %q", c.o, err, c.want)
		}
	}
}
