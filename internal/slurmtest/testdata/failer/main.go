// Command failer is a gompi program whose rank 2 fails right after Init while the others wait
// for a message from it: they must end with an error naming rank 2, not hang.
package main

import (
	"errors"

	"github.com/gompi/gompi/comm"
)

func main() {
	comm.Main(func(c *comm.Comm) error {
		if c.Rank() == 2 {
			return errors.New("rank 2 fails on purpose")
		}
		_, err := comm.Recv(c, make([]int64, 1), 2, 0)
		return err
	})
}
