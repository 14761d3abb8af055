// Command early is a test rank for gompirun's blame: every rank runs Allreduce in a loop, but
// rank 2 returns from its work (nil: no error) at iteration 50, and Main finalizes it while the
// others still need it. They fail; gompirun must name rank 2, not one of them.
package main

import (
	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	comm.Main(func(c *comm.Comm) error {
		for i := 0; i < 1_000_000; i++ {
			if c.Rank() == 2 && i == 50 {
				return nil
			}
			if err := collectives.Allreduce(c, []float64{1}, make([]float64, 1), collectives.Sum); err != nil {
				return err
			}
		}
		return nil
	})
}
