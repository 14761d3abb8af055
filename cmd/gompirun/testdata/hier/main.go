// Command hier is a test rank for gompirun's multi-host tests: it runs Allreduce, Allgather,
// Reduce and Bcast (every root) on float64 vectors of 1, 1000 and 2^17 elements, and Barrier, checks every
// result against the serial one, and prints
//
//	rank R/S collectives ok host=H allreduce=ALG bcast=ALG
//
// where ALG is what collectives.Algorithm reports ("node-aware" on a job over several hosts
// with more than one rank on some host). A wrong result prints "rank R: ..." and exits 1.
package main

import (
	"fmt"
	"os"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func val(rank, i int) float64 { return float64(rank*1000 + i%997) }

func main() {
	comm.Main(func(c *comm.Comm) error {
		p, me := c.Size(), c.Rank()
		for _, n := range []int{1, 1000, 1 << 17} {
			send := make([]float64, n)
			for i := range send {
				send[i] = val(me, i)
			}
			want := func(i int) float64 {
				s := 0.0
				for q := range p {
					s += val(q, i)
				}
				return s
			}
			recv := make([]float64, n)
			if err := collectives.Allreduce(c, send, recv, collectives.Sum); err != nil {
				return err
			}
			for i := range recv {
				if recv[i] != want(i) {
					return fmt.Errorf("Allreduce n=%d: [%d] = %v, want %v", n, i, recv[i], want(i))
				}
			}
			all := make([]float64, n*p)
			if err := collectives.Allgather(c, send, all); err != nil {
				return err
			}
			for i := range all {
				if all[i] != val(i/n, i%n) {
					return fmt.Errorf("Allgather n=%d: [%d] = %v, want %v", n, i, all[i], val(i/n, i%n))
				}
			}
			for root := range p {
				out := make([]float64, n)
				if err := collectives.Reduce(c, send, out, collectives.Sum, root); err != nil {
					return err
				}
				if me == root {
					for i := range out {
						if out[i] != want(i) {
							return fmt.Errorf("Reduce n=%d root=%d: [%d] = %v, want %v", n, root, i, out[i], want(i))
						}
					}
				}
				buf := make([]float64, n)
				if me == root {
					copy(buf, send)
				}
				if err := collectives.Bcast(c, buf, root); err != nil {
					return err
				}
				for i := range buf {
					if buf[i] != val(root, i) {
						return fmt.Errorf("Bcast n=%d root=%d: [%d] = %v, want %v", n, root, i, buf[i], val(root, i))
					}
				}
				if err := collectives.Barrier(c); err != nil {
					return err
				}
			}
		}
		ar, _ := collectives.Algorithm[float64](c, "Allreduce", 1000)
		bc, _ := collectives.Algorithm[float64](c, "Bcast", 1000)
		host := listenHost()
		fmt.Printf("rank %d/%d collectives ok host=%s allreduce=%s bcast=%s\n", me, p, host, ar, bc)
		return nil
	})
}

// listenHost is the address this rank listens on for TCP peers, as the transport chose it.
func listenHost() string {
	h, _, err := bootstrap.ListenAddr(os.Getenv(bootstrap.EnvHost), os.Getenv(bootstrap.EnvIface), os.Getenv(bootstrap.EnvAddr))
	if err != nil {
		return err.Error()
	}
	return h
}
