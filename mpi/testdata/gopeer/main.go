//go:build mpi

// Command gopeer is the Go side of mpi's interoperability test: rank 0 of an MPMD job whose
// rank 1 is the C program testdata/peer.c. It sends a float64 array, checks the reply, and
// runs two native Allreduce calls that the C side matches with MPI_Allreduce. It exits non-zero
// on any mismatch (comm.Main prints the error).
package main

import (
	"fmt"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
)

func main() { comm.Main(run) }

func run(c *comm.Comm) error {
	if c.Size() != 2 || c.Rank() != 0 {
		return fmt.Errorf("want rank 0 of 2, am %d of %d", c.Rank(), c.Size())
	}
	if commlink.Native(c) == nil {
		return fmt.Errorf("no native collectives: not running on OpenMPI")
	}
	const n = 1000
	x := make([]float64, n)
	for i := range x {
		x[i] = 0.25 * float64(i)
	}
	if err := comm.Send(c, x, 1, 10); err != nil {
		return err
	}
	y := make([]float64, n)
	st, err := comm.Recv(c, y, 1, 11)
	if err != nil {
		return err
	}
	if comm.Count[float64](st) != n || st.Source != 1 || st.Tag != 11 {
		return fmt.Errorf("reply status %+v", st)
	}
	for i := range y {
		if y[i] != 2*x[i]+1 {
			return fmt.Errorf("reply from C: y[%d] = %v, want %v", i, y[i], 2*x[i]+1)
		}
	}

	a, s := make([]float64, 5), make([]float64, 5)
	for i := range a {
		a[i] = float64(c.Rank()+1) * (float64(i) + 0.5)
	}
	if err := commlink.Native(c).Allreduce(comm.Bytes(a), comm.Bytes(s), backend.Float64, backend.OpSum); err != nil {
		return err
	}
	for i := range s {
		if s[i] != 3*(float64(i)+0.5) {
			return fmt.Errorf("float64 Allreduce with C: [%d] = %v, want %v", i, s[i], 3*(float64(i)+0.5))
		}
	}

	b, t := make([]int64, 3), make([]int64, 3)
	for i := range b {
		b[i] = int64(c.Rank()+1)*1_000_000_000_000 + int64(i)
	}
	if err := commlink.Native(c).Allreduce(comm.Bytes(b), comm.Bytes(t), backend.Int64, backend.OpSum); err != nil {
		return err
	}
	for i := range t {
		if t[i] != 3_000_000_000_000+2*int64(i) {
			return fmt.Errorf("int64 Allreduce with C: [%d] = %d", i, t[i])
		}
	}
	fmt.Println("gopeer: ok")
	return nil
}
