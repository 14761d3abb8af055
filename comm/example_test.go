package comm_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// Rank 0 sends a typed buffer to rank 1, which receives it from any source with any tag.
func ExampleSend() {
	inproc.Run(2, func(c *comm.Comm) error {
		if c.Rank() == 0 {
			return comm.Send(c, []float64{1.5, 2.5, 3.5}, 1, 7)
		}
		buf := make([]float64, 8) // larger than needed: the status says how much came
		st, err := comm.Recv(c, buf, comm.AnySource, comm.AnyTag)
		if err != nil {
			return err
		}
		n := comm.Count[float64](st)
		fmt.Println("from rank", st.Source, "tag", st.Tag, ":", buf[:n])
		return nil
	})
	// Output: from rank 0 tag 7 : [1.5 2.5 3.5]
}

// A receive buffer that is too small is an error, never a silent truncation.
func ExampleRecv_truncation() {
	inproc.Run(2, func(c *comm.Comm) error {
		if c.Rank() == 0 {
			return comm.Send(c, make([]byte, 4096), 1, 7)
		}
		_, err := comm.Recv(c, make([]byte, 1024), 0, 7)
		fmt.Println(errors.Is(err, comm.ErrTruncated))
		fmt.Println(err)
		return nil
	})
	// Output:
	// true
	// comm: Recv from rank 0, tag 7: 4096-byte message does not fit a 1024-byte buffer (message truncated)
}

// Any Go value travels with SendValue and RecvValue, like mpi4py's lowercase send and recv.
func ExampleComm_SendValue() {
	type job struct {
		Name  string
		Sizes []int
	}
	inproc.Run(2, func(c *comm.Comm) error {
		if c.Rank() == 0 {
			return c.SendValue(job{"matvec", []int{16, 1000}}, 1, 0)
		}
		var j job
		if _, err := c.RecvValue(&j, 0, 0); err != nil {
			return err
		}
		fmt.Printf("%+v\n", j)
		return nil
	})
	// Output: {Name:matvec Sizes:[16 1000]}
}

// Nonblocking calls return a Request; the buffer is the caller's again after Wait.
func ExampleIrecv() {
	inproc.Run(2, func(c *comm.Comm) error {
		peer := 1 - c.Rank()
		in := make([]int, 1)
		r, err := comm.Irecv(c, in, peer, 0)
		if err != nil {
			return err
		}
		if err := comm.Send(c, []int{10 * c.Rank()}, peer, 0); err != nil {
			return err
		}
		if _, err := r.Wait(); err != nil {
			return err
		}
		if c.Rank() == 1 {
			fmt.Println("rank 1 got", in[0])
		}
		return nil
	})
	// Output: rank 1 got 0
}

// Probe tells the size of a message before it is received.
func ExampleComm_Probe() {
	inproc.Run(2, func(c *comm.Comm) error {
		if c.Rank() == 0 {
			return comm.Send(c, []int32{4, 5, 6, 7, 8}, 1, 3)
		}
		st, err := c.Probe(0, comm.AnyTag)
		if err != nil {
			return err
		}
		buf := make([]int32, comm.Count[int32](st))
		if _, err := comm.Recv(c, buf, st.Source, st.Tag); err != nil {
			return err
		}
		fmt.Println(len(buf), buf)
		return nil
	})
	// Output: 5 [4 5 6 7 8]
}

// A context bounds a blocking call.
func ExampleRecvContext() {
	inproc.Run(1, func(c *comm.Comm) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		_, err := comm.RecvContext(ctx, c, make([]int, 1), 0, 99) // nobody sends
		fmt.Println(errors.Is(err, context.DeadlineExceeded))
		return nil
	})
	// Output: true
}

// Split makes sub-communicators; here even and odd ranks.
func ExampleComm_Split() {
	inproc.Run(4, func(c *comm.Comm) error {
		sub, err := c.Split(c.Rank()%2, c.Rank())
		if err != nil {
			return err
		}
		defer sub.Free()
		if c.Rank() == 3 {
			fmt.Printf("world rank %d is rank %d of %d in its half\n", c.Rank(), sub.Rank(), sub.Size())
		}
		return nil
	})
	// Output: world rank 3 is rank 1 of 2 in its half
}
