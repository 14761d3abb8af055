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

// TestCheck flips one byte of a message and expects check to name it.
func TestCheck(t *testing.T) {
	buf := make([]byte, 1024)
	fill(buf, 0, len(buf))
	if err := check(buf, 0, len(buf)); err != nil {
		t.Fatalf("intact message: %v", err)
	}
	buf[700] ^= 1
	if err := check(buf, 0, len(buf)); err == nil || !strings.Contains(err.Error(), "byte 700") {
		t.Errorf("flipped byte 700: error %v", err)
	}
	if err := check(buf, 1, len(buf)); err == nil {
		t.Error("message of the wrong rank: no error")
	}
}
