package timing

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// TestParallelTakesTheSlowestRank: rank 2 works longest (it spins until a deadline 20 ms after
// its start); the job's time, which only rank 0 gets, covers rank 2's work although rank 0
// does none.
func TestParallelTakesTheSlowestRank(t *testing.T) {
	var got time.Duration
	var calls atomic.Int32
	err := inproc.Run(3, func(c *comm.Comm) error {
		d, err := Parallel(c, 2, func() error {
			calls.Add(1)
			if c.Rank() == 2 {
				for start := time.Now(); time.Since(start) < 20*time.Millisecond; {
				}
			}
			return nil
		})
		if c.Rank() == 0 {
			got = d
		} else if d != 0 {
			t.Errorf("rank %d got %v, want 0", c.Rank(), d)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 6 {
		t.Errorf("run called %d times, want 2 on each of 3 ranks", calls.Load())
	}
	if got < 20*time.Millisecond {
		t.Errorf("job time %v, shorter than rank 2's 20 ms of work", got)
	}
}

func TestParallelError(t *testing.T) {
	boom := errors.New("boom")
	err := inproc.Run(2, func(c *comm.Comm) error {
		_, err := Parallel(c, 3, func() error {
			if c.Rank() == 1 {
				return boom
			}
			return nil
		})
		return err
	})
	if !errors.Is(err, boom) {
		t.Errorf("error %v, want one wrapping rank 1's", err)
	}
}

func TestSerial(t *testing.T) {
	n := 0
	d := Serial(3, func() {
		n++
		for start := time.Now(); time.Since(start) < time.Duration(4-n)*time.Millisecond; {
		}
	})
	if n != 3 || d < time.Millisecond {
		t.Errorf("Serial ran %d times and returned %v; want 3 runs, the fastest at least 1 ms", n, d)
	}
}
