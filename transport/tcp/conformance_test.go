package tcp_test

import (
	"time"

	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/comm/commtest"
	"github.com/gompi/gompi/transport/tcp"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

func TestConformance(t *testing.T) {
	commtest.RunJobs(t, tcptest.Run, []int{1, 2, 3, 5, 8}, commtest.World, commtest.Dup, commtest.Split)
}

// TestConformanceSmallEager runs the suite with a 256-byte eager limit, so that most messages
// take the rendezvous path over the wire.
func TestConformanceSmallEager(t *testing.T) {
	start := func(n int, f func(*comm.Comm) error) error {
		return tcptest.RunConfig(n, tcp.Config{EagerLimit: 256}, f)
	}
	commtest.RunJobs(t, start, []int{2, 3})
}

// TestConformanceSpin runs the suite with spinning readers (Config.SpinWait), the setting of a
// rank that has a core to itself, on both sides of the eager limit.
func TestConformanceSpin(t *testing.T) {
	for _, eager := range []int{0, 256} {
		start := func(n int, f func(*comm.Comm) error) error {
			return tcptest.RunConfig(n, tcp.Config{EagerLimit: eager, SpinWait: 50 * time.Microsecond}, f)
		}
		commtest.RunJobs(t, start, []int{2, 3})
	}
}
