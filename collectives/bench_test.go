package collectives

import (
	"fmt"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// The benchmarks time one collective call per iteration, for each algorithm, on in-process ranks
// and over TCP loopback. They produced the thresholds in docs/collectives.md:
//
//	go test -run '^$' -bench . -benchtime 200ms -count 5 ./collectives/
//
// Sizes are bytes per rank (the vector of Allreduce, Reduce, Bcast; each rank's block of
// Allgather). b.SetBytes counts those bytes, so MB/s compares algorithms at one size.

var benchSizes = []int{1 << 10, 8 << 10, 32 << 10, 128 << 10, 512 << 10, 2 << 20}

type transportRunner struct {
	name string
	run  func(n int, f func(c *comm.Comm) error) error
}

var benchTransports = []transportRunner{{"inproc", inproc.Run}, {"tcp", runTCP}}

// benchCollective runs setup on each of p ranks of every transport and times the call it returns.
func benchCollective(b *testing.B, name string, p, bytes int, setup func(c *comm.Comm, n int) func() error) {
	for _, tr := range benchTransports {
		b.Run(fmt.Sprintf("%s/%s/p=%d/bytes=%d", name, tr.name, p, bytes), func(b *testing.B) {
			b.SetBytes(int64(bytes))
			b.ReportAllocs()
			err := tr.run(p, func(c *comm.Comm) error {
				call := setup(c, bytes/8)
				if err := Barrier(c); err != nil {
					return err
				}
				if c.Rank() == 0 {
					b.ResetTimer()
				}
				for i := 0; i < b.N; i++ {
					if err := call(); err != nil {
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

func BenchmarkAllreduce(b *testing.B) {
	for _, alg := range []algorithm{algRecursiveDoubling, algRing, algRabenseifner} {
		for _, p := range []int{3, 4} {
			for _, size := range benchSizes {
				benchCollective(b, alg.String(), p, size, func(c *comm.Comm, n int) func() error {
					send, recv := make([]float64, n), make([]float64, n)
					return func() error { return allreduce(bg, c, "Allreduce", send, recv, Sum, alg) }
				})
			}
		}
	}
}

func BenchmarkBcast(b *testing.B) {
	for _, alg := range []algorithm{algBinomial, algScatterAllgather} {
		for _, cfg := range []struct{ p, size int }{{4, 1 << 10}, {4, 8 << 10}, {4, 32 << 10}, {4, 128 << 10}, {4, 512 << 10}, {4, 2 << 20}, {8, 128 << 10}, {8, 512 << 10}, {8, 2 << 20}} {
			benchCollective(b, alg.String(), cfg.p, cfg.size, func(c *comm.Comm, n int) func() error {
				buf := make([]byte, n*8)
				return func() error { return bcast(bg, c, "Bcast", buf, 0, alg) }
			})
		}
	}
}

func BenchmarkReduce(b *testing.B) {
	for _, alg := range []algorithm{algBinomial, algRabenseifner} {
		for _, size := range benchSizes {
			benchCollective(b, alg.String(), 4, size, func(c *comm.Comm, n int) func() error {
				send, recv := make([]float64, n), make([]float64, n)
				return func() error { return reduce(bg, c, "Reduce", send, recv, Sum, 0, alg) }
			})
		}
	}
}

func BenchmarkAllgather(b *testing.B) {
	for _, alg := range []algorithm{algBruck, algRing} {
		for _, cfg := range []struct{ p, size int }{{4, 128}, {8, 128}, {8, 1 << 10}, {8, 4 << 10}, {8, 16 << 10}, {4, 1 << 10}, {4, 8 << 10}, {4, 32 << 10}, {4, 128 << 10}, {4, 512 << 10}} {
			benchCollective(b, alg.String(), cfg.p, cfg.size, func(c *comm.Comm, n int) func() error {
				send, recv := make([]byte, n*8), make([]byte, c.Size()*n*8)
				return func() error { return allgather(bg, c, "Allgather", send, recv, 1, alg) }
			})
		}
	}
}
