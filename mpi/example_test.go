//go:build mpi

package mpi_test

import (
	"fmt"

	"github.com/gompi/gompi/comm"
)

// Programs never call package mpi: in a binary built with -tags mpi and started by mpirun,
// comm.Init returns a communicator whose messages OpenMPI carries. (Started plainly, the same
// program runs as a world of one rank.) Here each rank sends a message to itself.
func Example() {
	c, err := comm.Init()
	if err != nil {
		fmt.Println(err)
		return
	}
	me := c.Rank()
	if err := comm.Send(c, []float64{1.5, 2.5}, me, 0); err != nil {
		fmt.Println(err)
		return
	}
	buf := make([]float64, 4)
	st, err := comm.Recv(c, buf, me, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(buf[:comm.Count[float64](st)], st.Source == me)
	// Output: [1.5 2.5] true
}
