package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestSendrecv runs the program on 2 and 3 ranks: ranks 0 and 1 print the same data.
func TestSendrecv(t *testing.T) {
	for _, n := range []int{2, 3} {
		var mu sync.Mutex
		outs := make([]bytes.Buffer, n)
		err := inproc.Run(n, func(c *comm.Comm) error {
			var b bytes.Buffer
			err := run(c, 7, &b)
			mu.Lock()
			outs[c.Rank()] = b
			mu.Unlock()
			return err
		})
		if err != nil {
			t.Fatalf("%d ranks: %v", n, err)
		}
		l0 := strings.Split(strings.TrimSpace(outs[0].String()), "\n")
		l1 := strings.Split(strings.TrimSpace(outs[1].String()), "\n")
		if len(l0) != 2 || len(l1) != 2 {
			t.Fatalf("%d ranks: want 2 lines per rank, got %q and %q", n, l0, l1)
		}
		if l0[0] != "rank = 0 , data = [1.0, 2.0, 3.0, 4.0]" || l1[0] != "rank = 1 , data = [1.0, 2.0, 3.0, 4.0]" {
			t.Errorf("value lines: %q, %q", l0[0], l1[0])
		}
		if strings.TrimPrefix(l0[1], "rank = 0") != strings.TrimPrefix(l1[1], "rank = 1") {
			t.Errorf("buffer lines differ: %q vs %q", l0[1], l1[1])
		}
		if outs[2%n].Len() != 0 && n == 3 {
			t.Errorf("rank 2 printed %q", outs[2].String())
		}
	}
}

func TestSendrecvNeedsTwoRanks(t *testing.T) {
	err := inproc.Run(1, func(c *comm.Comm) error { return run(c, 1, &bytes.Buffer{}) })
	if err == nil || !strings.Contains(err.Error(), "at least 2 ranks") {
		t.Fatalf("one rank: got %v", err)
	}
}

// TestSwapUnsafely: the unsafe swap works where sends are buffered (the default), each rank
// getting the other's buffer.
func TestSwapUnsafely(t *testing.T) {
	outs := make([]bytes.Buffer, 3)
	err := inproc.Run(3, func(c *comm.Comm) error { return swapUnsafely(c, &outs[c.Rank()]) })
	if err != nil {
		t.Fatal(err)
	}
	if outs[0].String() != "rank 0 swapped, got [1.0, 1.5]\n" || outs[1].String() != "rank 1 swapped, got [0.0, 0.5]\n" || outs[2].Len() != 0 {
		t.Errorf("outputs %q %q %q", outs[0].String(), outs[1].String(), outs[2].String())
	}
}
