package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

func TestPsum(t *testing.T) {
	for p := 1; p <= 8; p++ {
		for _, n := range []int{0, 1, 5, 128, 1001} {
			var out bytes.Buffer
			err := inproc.Run(p, func(c *comm.Comm) error {
				var w bytes.Buffer
				err := psum(c, n, 42, &w)
				if c.Rank() == 0 {
					out = w
				} else if w.Len() != 0 {
					return fmt.Errorf("rank %d printed %q", c.Rank(), w.String())
				}
				return err
			})
			if err != nil {
				t.Errorf("p=%d n=%d: %v", p, n, err)
				continue
			}
			var s, ser float64
			if _, err := fmt.Sscanf(out.String(), "sum = %g , serial sum = %g", &s, &ser); err != nil {
				t.Errorf("p=%d n=%d: output %q: %v", p, n, out.String(), err)
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

func TestBlocks(t *testing.T) {
	got := fmt.Sprint(blocks(10, 4))
	if got != "[3 3 2 2]" {
		t.Errorf("blocks(10, 4) = %s, want [3 3 2 2]", got)
	}
	if got := strings.Trim(fmt.Sprint(blocks(2, 5)), "[]"); got != "1 1 0 0 0" {
		t.Errorf("blocks(2, 5) = %s, want 1 1 0 0 0", got)
	}
}
