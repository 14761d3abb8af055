package shm_test

import (
	"fmt"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/shm"
	"github.com/gompi/gompi/transport/shm/shmtest"
)

// Three ranks in this process pass a token around a ring through shared memory, as ranks on
// one host do under gompirun. A waiting rank polls for 50 µs before it parks.
func Example() {
	err := shmtest.RunConfig(3, shm.Config{Spin: 50 * time.Microsecond}, func(c *comm.Comm) error {
		me, n := c.Rank(), c.Size()
		token := []int{0}
		if me == 0 {
			token[0] = 1
			if err := comm.Send(c, token, 1, 0); err != nil {
				return err
			}
			if _, err := comm.Recv(c, token, n-1, 0); err != nil {
				return err
			}
			fmt.Println("token came back as", token[0])
			return nil
		}
		if _, err := comm.Recv(c, token, me-1, 0); err != nil {
			return err
		}
		token[0] *= 10
		return comm.Send(c, token, (me+1)%n, 0)
	})
	fmt.Println("error:", err)
	// Output:
	// token came back as 100
	// error: <nil>
}
