// Command unsafe is a test rank for gompirun --strict: ranks 0 and 1 each Send 8 bytes to the
// other before they Recv, which works only because the library buffers small sends (MPI calls
// such a program unsafe). It prints "rank R exchanged" when its exchange completed.
package main

import (
	"fmt"

	"github.com/gompi/gompi/comm"
)

func main() {
	comm.Main(func(c *comm.Comm) error {
		if c.Rank() > 1 {
			return nil
		}
		peer := 1 - c.Rank()
		if err := comm.Send(c, []float64{float64(c.Rank())}, peer, 7); err != nil {
			return err
		}
		got := []float64{-1}
		if _, err := comm.Recv(c, got, peer, 7); err != nil {
			return err
		}
		fmt.Printf("rank %d exchanged\n", c.Rank())
		return nil
	})
}
