package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestPingpong runs a short measurement on 2 and 3 ranks and checks it reports every size once.
func TestPingpong(t *testing.T) {
	for _, n := range []int{2, 3} {
		var out strings.Builder
		err := inproc.Run(n, func(c *comm.Comm) error {
			return run(c, 0.001, func(f string, a ...any) (int, error) { return fmt.Fprintf(&out, f, a...) })
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "1 ") || !strings.HasPrefix(lines[3], "1048576 ") {
			t.Errorf("%d ranks: output %q", n, out.String())
		}
	}
	if err := inproc.Run(1, func(c *comm.Comm) error { return run(c, 1, nil) }); err == nil {
		t.Error("one rank: want an error")
	}
}
