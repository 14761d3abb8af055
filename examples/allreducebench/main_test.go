package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestAllreducebench runs a short measurement on 1, 2 and 5 ranks and checks that it reports
// every size once (the program itself checks the sums).
func TestAllreducebench(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		var out strings.Builder
		err := inproc.Run(n, func(c *comm.Comm) error {
			return run(c, 0.002, func(f string, a ...any) (int, error) { return fmt.Fprintf(&out, f, a...) })
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != len(sizes) {
			t.Fatalf("%d ranks: output %q", n, out.String())
		}
		for i, l := range lines {
			if !strings.HasPrefix(l, fmt.Sprint(sizes[i], " ")) {
				t.Errorf("%d ranks: line %d is %q, want the size %d first", n, i, l, sizes[i])
			}
		}
	}
}
