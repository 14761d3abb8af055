package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// runBootstrap runs the program on p in-process ranks and returns rank 0's output lines; the
// other ranks must print nothing.
func runBootstrap(p int, o options) ([]string, error) {
	var out string
	err := inproc.Run(p, func(c *comm.Comm) error {
		var w bytes.Buffer
		err := bootstrap(c, o, &w)
		if c.Rank() == 0 {
			out = w.String()
		} else if w.Len() != 0 {
			return fmt.Errorf("rank %d printed %q", c.Rank(), w.String())
		}
		return err
	})
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n"), err
}

// TestSameOnAnyRankCount: 1..5 ranks print the same data, mean, standard error and interval,
// digit for digit, including when there are fewer resamples than ranks.
func TestSameOnAnyRankCount(t *testing.T) {
	for _, o := range []options{
		{pairs: 50, rho: 0.6, resamples: 1001, seed: 3, level: 0.95},
		{pairs: 20, rho: -0.3, resamples: 3, seed: 4, level: 0.9},
	} {
		var want []string
		for p := 1; p <= 5; p++ {
			lines, err := runBootstrap(p, o)
			if err != nil {
				t.Fatalf("%+v p=%d: %v", o, p, err)
			}
			if len(lines) != 4 || !strings.Contains(lines[1], fmt.Sprintf("%d resamples on %d rank", o.resamples, p)) {
				t.Fatalf("%+v p=%d: output %q", o, p, lines)
			}
			lines = append(lines[:1], lines[2:]...) // all but the line naming the ranks
			if want == nil {
				want = lines
			} else if strings.Join(lines, "\n") != strings.Join(want, "\n") {
				t.Errorf("%+v p=%d: output\n%s\non 1 rank\n%s", o, p, strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// TestStatistics checks the numbers against what theory says for 200 pairs with correlation
// 0.6: the standard error of r is about (1-r²)/√n ≈ 0.045, the interval holds the sample r and
// is about 4 standard errors wide, the mean is near the sample r (the bias of r is a few
// thousandths here).
func TestStatistics(t *testing.T) {
	lines, err := runBootstrap(3, options{pairs: 200, rho: 0.6, resamples: 4000, seed: 11, level: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	var r, mean, se, lo, hi float64
	if _, err := fmt.Sscanf(lines[0], "200 pairs with correlation 0.6 by construction: sample r = %g", &r); err != nil {
		t.Fatalf("line %q: %v", lines[0], err)
	}
	if _, err := fmt.Sscanf(lines[2], "bootstrap mean r = %g, standard error %g", &mean, &se); err != nil {
		t.Fatalf("line %q: %v", lines[2], err)
	}
	if _, err := fmt.Sscanf(lines[3], "95%% percentile interval: [%g, %g]", &lo, &hi); err != nil {
		t.Fatalf("line %q: %v", lines[3], err)
	}
	theory := (1 - r*r) / math.Sqrt(200)
	if math.Abs(r-0.6) > 4*theory {
		t.Errorf("sample r = %v, far from 0.6", r)
	}
	if se < 0.7*theory || se > 1.4*theory {
		t.Errorf("standard error %v, theory says about %v", se, theory)
	}
	if math.Abs(mean-r) > 0.2*se {
		t.Errorf("bootstrap mean %v, sample r %v: further apart than 0.2 standard errors (%v)", mean, r, se)
	}
	if !(lo < r && r < hi) || hi-lo < 3*se || hi-lo > 5*se {
		t.Errorf("interval [%v, %v] with sample r %v and standard error %v", lo, hi, r, se)
	}
}

// TestDegenerateResamples: with 3 pairs, a resample draws the same pair three times with
// probability 1/9; those have no r and are left out, and said so.
func TestDegenerateResamples(t *testing.T) {
	lines, err := runBootstrap(2, options{pairs: 3, rho: 0.5, resamples: 900, seed: 1, level: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if len(lines) != 5 {
		t.Fatalf("output %q: want 5 lines", lines)
	}
	if _, err := fmt.Sscanf(lines[2], "%d resamples left out", &left); err != nil || left < 60 || left > 140 {
		t.Errorf("line %q: want about 100 resamples left out (%v)", lines[2], err)
	}
}

func TestPearson(t *testing.T) {
	all := []int{0, 1, 2, 3}
	for _, c := range []struct {
		x, y []float64
		idx  []int
		want float64
	}{
		{[]float64{1, 2, 3, 4}, []float64{2, 4, 6, 8}, all, 1},
		{[]float64{1, 2, 3, 4}, []float64{8, 6, 4, 2}, all, -1},
		{[]float64{1, 2, 3}, []float64{1, 3, 2}, []int{0, 1, 2}, 0.5},
		// Repeated indices weigh a pair twice: pairs (1,1), (1,1), (3,2) lie on a line.
		{[]float64{1, 2, 3}, []float64{1, 3, 2}, []int{0, 0, 2}, 1},
		// Far from 0: two passes keep the digits that one pass (Σxy - n·x̄·ȳ) would lose.
		{[]float64{1e9 + 1, 1e9 + 2, 1e9 + 3}, []float64{1, 3, 2}, []int{0, 1, 2}, 0.5},
	} {
		if got := pearson(c.x, c.y, c.idx); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("pearson(%v, %v, %v) = %v, want %v", c.x, c.y, c.idx, got, c.want)
		}
	}
	if got := pearson([]float64{1, 2}, []float64{3, 4}, []int{1, 1}); !math.IsNaN(got) {
		t.Errorf("one pair twice: r = %v, want NaN", got)
	}
}

// TestPercentile compares with numpy.percentile's default ("linear") method:
// numpy.percentile([1, 2, 3, 4, 5], [0, 2.5, 50, 97.5, 100]) is [1, 1.1, 3, 4.9, 5].
func TestPercentile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.025, 1.1}, {0.5, 3}, {0.975, 4.9}, {1, 5}} {
		if got := percentile(s, c.q); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("percentile(%v, %v) = %v, want %v", s, c.q, got, c.want)
		}
	}
	if got := percentile([]float64{7}, 0.975); got != 7 {
		t.Errorf("percentile of one value = %v, want 7", got)
	}
}

func TestBadFlags(t *testing.T) {
	good := options{pairs: 10, rho: 0.5, resamples: 10, seed: 1, level: 0.95}
	for _, c := range []struct {
		change func(*options)
		want   string
	}{
		{func(o *options) { o.pairs = 2 }, "-pairs 2"},
		{func(o *options) { o.rho = 1.5 }, "-rho 1.5"},
		{func(o *options) { o.rho = math.NaN() }, "-rho NaN"},
		{func(o *options) { o.resamples = 0 }, "-B 0"},
		{func(o *options) { o.level = 95 }, "-level 95"},
	} {
		o := good
		c.change(&o)
		_, err := runBootstrap(3, o)
		if err == nil || strings.Count(err.Error(), c.want) != 3 {
			t.Errorf("%+v: error %v, want every rank to say %q", o, err, c.want)
		}
	}
}
