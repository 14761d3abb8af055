// Package timing measures the lecture examples' speed-ups the way benchmarks do: the job's time
// on p ranks, the time of the same work on one rank alone, each the fastest of a few runs.
//
// A rank cannot time the job by itself: the ranks leave a Barrier at slightly different moments
// (by milliseconds when there are more ranks or goroutines than cores), and a rank that starts
// late sees a shorter job than there was. So every rank times its own window, from a Barrier to
// a second Barrier after the work (which it leaves only once every rank has finished), and the
// job's time is the longest window: at least the time from the first rank's start to the last
// rank's finish. Taking the fastest of several runs leaves out the runs that met a busier
// machine.
package timing

import (
	"math"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

// Parallel runs run on every rank of c repeat times and returns, on rank 0, the job's time: the
// fastest run, each run's time being the longest of the ranks' windows from a Barrier before run
// to a Barrier after it. Other ranks get 0. Every rank must call Parallel with the same repeat;
// an error from run or from a collective ends it on that rank (and so, through the
// collectives, on the others).
func Parallel(c *comm.Comm, repeat int, run func() error) (time.Duration, error) {
	fastest := time.Duration(math.MaxInt64)
	for range repeat {
		if err := collectives.Barrier(c); err != nil {
			return 0, err
		}
		start := time.Now()
		if err := run(); err != nil {
			return 0, err
		}
		if err := collectives.Barrier(c); err != nil {
			return 0, err
		}
		window := []int64{int64(time.Since(start))}
		longest := []int64{0}
		if err := collectives.Reduce(c, window, longest, collectives.Max, 0); err != nil {
			return 0, err
		}
		fastest = min(fastest, time.Duration(longest[0]))
	}
	if c.Rank() != 0 {
		return 0, nil
	}
	return fastest, nil
}

// Serial runs run repeat times on the calling goroutine and returns the fastest run's time.
func Serial(repeat int, run func()) time.Duration {
	fastest := time.Duration(math.MaxInt64)
	for range repeat {
		start := time.Now()
		run()
		fastest = min(fastest, time.Since(start))
	}
	return fastest
}
