package shm_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/shm"
	"github.com/gompi/gompi/transport/shm/shmtest"
)

// BenchmarkPingPong measures a round trip between two in-process ranks over shared memory,
// spinning waits (the policy of ranks with a core each). Run with -cpu 2 or more: each rank
// needs a P.
func BenchmarkPingPong(b *testing.B) {
	for _, n := range []int{1, 1024, 64 << 10, 1 << 20} {
		for _, cma := range []bool{true, false} {
			if n < 64<<10 && !cma {
				continue
			}
			b.Run(fmt.Sprintf("%d/cma=%v", n, cma), func(b *testing.B) {
				b.SetBytes(int64(2 * n))
				b.ReportAllocs()
				err := shmtest.RunConfig(2, shm.Config{Spin: time.Millisecond, CMA: cma}, func(c *comm.Comm) error {
					buf, rb := make([]byte, n), make([]byte, n)
					if c.Rank() == 0 {
						b.ResetTimer()
						for b.Loop() {
							if err := comm.Send(c, buf, 1, 1); err != nil {
								return err
							}
							if _, err := comm.Recv(c, rb, 1, 1); err != nil {
								return err
							}
						}
						b.StopTimer()
						return comm.Send(c, buf[:0], 1, 2)
					}
					for {
						st, err := comm.Recv(c, rb, 0, comm.AnyTag)
						if err != nil || st.Tag == 2 {
							return err
						}
						if err := comm.Send(c, buf, 0, 1); err != nil {
							return err
						}
					}
				})
				if err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
