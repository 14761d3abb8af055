// Command deadlock is a test rank for gompirun's hang report: rank 0 receives from rank 1 (tag
// 99) while rank 1 receives from rank 0 (tag 99), and every other rank waits in a Barrier that
// ranks 0 and 1 never reach. It never ends by itself. Each rank prints "rank R waits" first.
package main

import (
	"fmt"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	comm.Main(func(c *comm.Comm) error {
		fmt.Printf("rank %d waits\n", c.Rank())
		buf := make([]float64, 4)
		switch c.Rank() {
		case 0:
			_, err := comm.Recv(c, buf, 1, 99)
			return err
		case 1:
			_, err := comm.Recv(c, buf, 0, 99)
			return err
		}
		return collectives.Barrier(c)
	})
}
