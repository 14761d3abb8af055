package tcp_test

import (
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/tcp"
	"github.com/gompi/gompi/transport/tcp/tcptest"
)

// BenchmarkPingPong measures a round trip of one message each way between two ranks over
// loopback TCP, for message sizes around the eager limit, with the eager protocol forced
// (eager=big) and the rendezvous protocol forced (eager=0). docs/PROTOCOL.md explains how the
// default eager limit was chosen from it.
func BenchmarkPingPong(b *testing.B) {
	for _, size := range []int{1, 1 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20, 4 << 20} {
		for _, mode := range []struct {
			name  string
			eager int
		}{{"eager", 8 << 20}, {"rendezvous", 1}} {
			if mode.name == "rendezvous" && size == 1 {
				continue
			}
			b.Run(fmt.Sprintf("%s/%d", mode.name, size), func(b *testing.B) {
				b.SetBytes(int64(2 * size))
				b.ReportAllocs()
				err := tcptest.RunConfig(2, tcp.Config{EagerLimit: mode.eager}, func(c *comm.Comm) error {
					buf := make([]byte, size)
					peer := 1 - c.Rank()
					round := func() error {
						if c.Rank() == 0 {
							if err := comm.Send(c, buf, peer, 1); err != nil {
								return err
							}
							_, err := comm.Recv(c, buf, peer, 2)
							return err
						}
						if _, err := comm.Recv(c, buf, peer, 1); err != nil {
							return err
						}
						return comm.Send(c, buf, peer, 2)
					}
					for range 20 {
						if err := round(); err != nil {
							return err
						}
					}
					if c.Rank() == 0 {
						b.ResetTimer()
					}
					for range b.N {
						if err := round(); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkFragmentSize measures a rendezvous round trip (one message each way) over loopback
// TCP for large messages sent in Data fragments of several sizes ("whole": one frame).
// docs/BENCHMARKS.md has the measurement behind tcp.DefaultFragmentSize.
func BenchmarkFragmentSize(b *testing.B) {
	for _, size := range []int{1 << 20, 4 << 20} {
		for _, frag := range []int{-1, 128 << 10, 256 << 10, 512 << 10, 1 << 20} {
			name := fmt.Sprint(frag >> 10)
			if frag < 0 {
				name = "whole"
			}
			b.Run(fmt.Sprintf("%d/%s", size, name), func(b *testing.B) {
				b.SetBytes(int64(2 * size))
				err := tcptest.RunConfig(2, tcp.Config{FragmentSize: frag}, func(c *comm.Comm) error {
					buf := make([]byte, size)
					peer := 1 - c.Rank()
					for i := range b.N + 10 {
						if i == 10 && c.Rank() == 0 {
							b.ResetTimer()
						}
						if c.Rank() == 0 {
							if err := comm.Send(c, buf, peer, 1); err != nil {
								return err
							}
							if _, err := comm.Recv(c, buf, peer, 2); err != nil {
								return err
							}
							continue
						}
						if _, err := comm.Recv(c, buf, peer, 1); err != nil {
							return err
						}
						if err := comm.Send(c, buf, peer, 2); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
