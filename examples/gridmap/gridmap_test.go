package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestGridmap runs the program on 1 to 4 in-process ranks with a small grid, every point
// checked, and checks its report and its progress lines.
func TestGridmap(t *testing.T) {
	report := regexp.MustCompile(`^gridmap: 35 points \(7 μ × 5 σ\), 2000 normal samples each, on ranks \[[0-9 ]+\]: [0-9.]+ s
  μ = -1.000, σ = 0.500: mean +-?[0-9.]+
  μ = -1.000, σ = 2.000: mean +-?[0-9.]+
  μ =  1.000, σ = 0.500: mean +-?[0-9.]+
  μ =  1.000, σ = 2.000: mean +-?[0-9.]+
checked: 35 points recomputed serially, equal; every sum within 6σ√n of nμ
$`)
	for p := 1; p <= 4; p++ {
		o := options{muSteps: 7, sigmaSteps: 5, samples: 2000, seed: 9, check: 100, progress: farm.ProgressLines}
		var out, progress bytes.Buffer
		err := inproc.Run(p, func(c *comm.Comm) error {
			var w, pw bytes.Buffer
			err := gridmap(c, o, &w, &pw)
			if c.Rank() == 0 {
				out, progress = w, pw
			}
			return err
		})
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		if !report.MatchString(out.String()) {
			t.Errorf("p=%d: report\n%s", p, out.String())
		}
		if !strings.HasSuffix(progress.String(), "model: 35/35\n") {
			t.Errorf("p=%d: progress %q does not end with model: 35/35", p, progress.String())
		}
	}
}

// TestModel checks the model against its definition: a mean near μ, and the same sum for the
// same index, another for another.
func TestModel(t *testing.T) {
	p := point{Index: 3, Mu: 0.25, Sigma: 1}
	a, b := model(p, 100000, 1), model(p, 100000, 1)
	p.Index = 4
	if c := model(p, 100000, 1); a != b || a == c {
		t.Errorf("sums %v, %v for one point, %v for another: want equal, then different", a, b, c)
	}
	if mean := a / 100000; mean < 0.25-0.02 || mean > 0.25+0.02 {
		t.Errorf("mean %v, want 0.25 ± 0.02 (6σ/√n)", mean)
	}
	if got := fmt.Sprint(grid(2, 2)); got != "[{0 -1 0.5} {1 -1 2} {2 1 0.5} {3 1 2}]" {
		t.Errorf("grid(2, 2) = %s", got)
	}
}
