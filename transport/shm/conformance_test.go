package shm_test

import (
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/comm/commtest"
	"github.com/gompi/gompi/transport/shm"
	"github.com/gompi/gompi/transport/shm/shmtest"
)

// TestConformance runs the suite over shared memory as gompirun sets it up for ranks that
// have a core each: large payloads copied once from the sender's memory, waits that spin
// before they park.
func TestConformance(t *testing.T) {
	start := func(n int, f func(*comm.Comm) error) error {
		return shmtest.RunConfig(n, shm.Config{Spin: 50 * time.Microsecond}, f)
	}
	commtest.RunJobs(t, start, []int{1, 2, 3, 5, 8}, commtest.World, commtest.Dup, commtest.Split)
}

// TestConformanceWait runs the suite under the other wait policies: park at once, and poll
// with sched_yield (more ranks than cores).
func TestConformanceWait(t *testing.T) {
	for _, p := range []struct {
		name        string
		spin, yield time.Duration
	}{{"park", 0, 0}, {"yield", 0, 200 * time.Microsecond}} {
		t.Run(p.name, func(t *testing.T) {
			start := func(n int, f func(*comm.Comm) error) error {
				return shmtest.RunConfig(n, shm.Config{Spin: p.spin, Yield: p.yield}, f)
			}
			commtest.RunJobs(t, start, []int{2, 3}, commtest.World, commtest.Dup)
		})
	}
}

// TestConformanceSmallEager runs the suite with a small eager limit, so that most messages
// take the rendezvous path and their payloads go through the ring in pieces. (The rings wrap
// many times over; ring_test.go covers wrapping on its own.)
func TestConformanceSmallEager(t *testing.T) {
	start := func(n int, f func(*comm.Comm) error) error {
		return shmtest.RunConfig(n, shm.Config{EagerLimit: 256, Spin: 20 * time.Microsecond}, f)
	}
	commtest.RunJobs(t, start, []int{2, 3, 5})
}

// TestConformanceCMA runs the suite with large payloads copied once, from the sender's memory
// (process_vm_readv), and a small eager limit so that most messages take that path.
func TestConformanceCMA(t *testing.T) {
	start := func(n int, f func(*comm.Comm) error) error {
		return shmtest.RunConfig(n, shm.Config{CMA: true, EagerLimit: 256, Spin: 20 * time.Microsecond}, f)
	}
	commtest.RunJobs(t, start, []int{1, 2, 3, 5, 8}, commtest.World, commtest.Dup, commtest.Split)
}
