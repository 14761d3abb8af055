//go:build mpi

package mpi_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/mpi"
)

// TestFreeBeforeAnErrorCompletes: rank 0 posts an empty receive on a dup, rank 1 sends it 8
// bytes, and rank 0 frees the dup after MPI has matched the message (so the receive is done,
// truncated) but before the progress engine has seen it. OpenMPI would destroy the freed
// communicator while failing that request and abort rank 0 from MPI_Testsome; gompi keeps the
// handle until the request is done, so the receive fails with ErrTruncated, MPI_Comm_free runs
// after it, and the job goes on. (This is what a collective's discarded receive does when a
// late rank's message comes after the communicator was freed.)
func TestFreeBeforeAnErrorCompletes(t *testing.T) {
	c := needWorld(t)
	if c.Size() < 2 {
		t.Skip("needs two ranks")
	}
	d, err := c.Dup()
	if err != nil {
		t.Fatal(err)
	}
	const dataTag, markTag, goTag = 5, 6, 7
	switch c.Rank() {
	case 0:
		resume := mpi.HoldEngine()
		req, err := commlink.Backend(d).Irecv(nil, 1, dataTag)
		if err != nil {
			resume()
			t.Fatal(err)
		}
		// Rank 1 sends only when told, so the message cannot come before the receive is
		// posted; it sends the marker on c after its message on d, so once the marker is here
		// (MPI_Iprobe makes progress without the engine), the receive has matched.
		goReq, err := comm.Isend(c, []int32{1}, 1, goTag)
		if err != nil {
			resume()
			t.Fatal(err)
		}
		for {
			_, ok, err := commlink.Backend(c).Iprobe(1, markTag)
			if err != nil {
				resume()
				t.Fatal(err)
			}
			if ok {
				break
			}
			runtime.Gosched()
		}
		err = d.Free()
		deferred := mpi.FreeDeferred(commlink.Backend(d))
		resume()
		if err != nil {
			t.Fatalf("Free with a finished receive pending: %v", err)
		}
		if !deferred {
			t.Errorf("Free did not wait for the pending receive before MPI_Comm_free")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := goReq.WaitContext(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := req.Wait(ctx); !errors.Is(err, comm.ErrTruncated) {
			t.Errorf("the empty receive of 8 bytes: %v, want ErrTruncated", err)
		}
		if mpi.FreeDeferred(commlink.Backend(d)) {
			t.Errorf("the receive is done but the dup is still not freed")
		}
		if _, err := comm.Recv(c, make([]int32, 1), 1, markTag); err != nil {
			t.Fatal(err)
		}
	case 1:
		if _, err := comm.Recv(c, make([]int32, 1), 0, goTag); err != nil {
			t.Fatal(err)
		}
		if err := comm.Send(d, []int64{42}, 0, dataTag); err != nil {
			t.Fatal(err)
		}
		if err := comm.Send(c, []int32{1}, 0, markTag); err != nil {
			t.Fatal(err)
		}
		if err := d.Free(); err != nil {
			t.Fatal(err)
		}
	default:
		if err := d.Free(); err != nil {
			t.Fatal(err)
		}
	}
}
