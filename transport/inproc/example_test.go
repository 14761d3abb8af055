package inproc_test

import (
	"fmt"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// Run starts ranks as goroutines: the quickest way to try gompi, test code, or teach.
func ExampleRun() {
	err := inproc.Run(3, func(c *comm.Comm) error {
		// Pass a token around the ring 0 -> 1 -> 2 -> 0.
		next, prev := (c.Rank()+1)%c.Size(), (c.Rank()+c.Size()-1)%c.Size()
		token := []int{0}
		if c.Rank() != 0 {
			if _, err := comm.Recv(c, token, prev, 0); err != nil {
				return err
			}
		}
		token[0] += c.Rank()
		if err := comm.Send(c, token, next, 0); err != nil {
			return err
		}
		if c.Rank() == 0 {
			if _, err := comm.Recv(c, token, prev, 0); err != nil {
				return err
			}
			fmt.Println("sum of ranks:", token[0])
		}
		return nil
	})
	fmt.Println("error:", err)
	// Output:
	// sum of ranks: 3
	// error: <nil>
}
