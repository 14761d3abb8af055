//go:build mpi

package mpi_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/commlink"
)

// ring returns the rank c's rank sends to and the one it receives from.
func ring(c *comm.Comm) (dest, src int) {
	me, p := c.Rank(), c.Size()
	return (me + 1) % p, (me - 1 + p) % p
}

// gcLoop runs runtime.GC in a loop, allocating garbage, until the returned stop is called.
func gcLoop() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var junk [][]byte
		for {
			select {
			case <-done:
				return
			default:
			}
			junk = append(junk, make([]byte, 1<<16))
			if len(junk) > 64 {
				junk = junk[:0]
			}
			runtime.GC()
		}
	}()
	return func() { close(done); wg.Wait() }
}

// TestIrecvDuringGC: a 64 MiB nonblocking receive, posted before the data is sent, completes
// with the right contents while the garbage collector runs in a loop (issue 5, acceptance 4).
func TestIrecvDuringGC(t *testing.T) {
	c := needWorld(t)
	dest, src := ring(c)
	const n = 8 << 20 // float64s: 64 MiB
	in := make([]float64, n)
	req, err := comm.Irecv(c, in, src, 77)
	if err != nil {
		t.Fatal(err)
	}
	stop := gcLoop()
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(c.Rank()*n+i) * 0.25
	}
	time.Sleep(20 * time.Millisecond) // let collections run while the receive is pending
	if err := comm.Send(c, out, dest, 77); err != nil {
		stop()
		t.Fatal(err)
	}
	st, err := req.Wait()
	stop()
	if err != nil {
		t.Fatal(err)
	}
	if st.Source != src || st.Bytes != 8*n {
		t.Fatalf("status %+v, want source %d, %d bytes", st, src, 8*n)
	}
	for i, v := range in {
		if want := float64(src*n+i) * 0.25; v != want {
			t.Fatalf("64 MiB Irecv under GC: [%d] = %v, want %v", i, v, want)
		}
	}
}

// TestPendingBufferKeptAlive: a receive buffer that only the request refers to is not freed by
// the collector before the request completes.
func TestPendingBufferKeptAlive(t *testing.T) {
	c := needWorld(t)
	dest, src := ring(c)
	var freed atomic.Bool
	req := func() *comm.Request {
		buf := make([]int64, 1<<16)
		runtime.SetFinalizer(&buf[0], func(*int64) { freed.Store(true) })
		r, err := comm.Irecv(c, buf, src, 78)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}()
	stop := gcLoop()
	time.Sleep(20 * time.Millisecond)
	stop()
	if freed.Load() {
		t.Error("the buffer of a pending Irecv was freed by the garbage collector")
	}
	if err := commlink.Native(c).Barrier(); err != nil { // no rank sends before every rank has checked
		t.Fatal(err)
	}
	if err := comm.Send(c, make([]int64, 1<<16), dest, 78); err != nil {
		t.Fatal(err)
	}
	if _, err := req.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestRecvAllocConcurrent: four goroutines per rank receive messages of unknown lengths with
// AnySource/AnyTag through RecvAlloc (matched probes); each message arrives exactly once and whole.
func TestRecvAllocConcurrent(t *testing.T) {
	c := needWorld(t)
	me, p := c.Rank(), c.Size()
	const perPeer, receivers = 25, 4
	length := func(from, k int) int { return 1 + (from*997+k*4099)%20000 }
	errs := make(chan error, receivers+1)
	var sent sync.WaitGroup
	sent.Add(1)
	go func() {
		defer sent.Done()
		for k := range perPeer {
			for d := range p {
				msg := make([]byte, length(me, k))
				for i := range msg {
					msg[i] = byte(me + k + i)
				}
				if err := comm.Send(c, msg, d, k); err != nil {
					errs <- err
					return
				}
			}
		}
	}()
	var mu sync.Mutex
	seen := make(map[[2]int]bool)
	var wg sync.WaitGroup
	total := perPeer * p
	var taken atomic.Int64
	for range receivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for taken.Add(1) <= int64(total) {
				buf, st, err := commlink.Backend(c).RecvAlloc(context.Background(), backend.AnySource, backend.AnyTag)
				if err != nil {
					errs <- err
					return
				}
				want := length(st.Source, st.Tag)
				if len(buf) != want || st.Bytes != want {
					errs <- fmt.Errorf("RecvAlloc from %d tag %d: %d bytes (status %d), want %d", st.Source, st.Tag, len(buf), st.Bytes, want)
					return
				}
				for i, b := range buf {
					if b != byte(st.Source+st.Tag+i) {
						errs <- fmt.Errorf("RecvAlloc from %d tag %d: [%d] = %d", st.Source, st.Tag, i, b)
						return
					}
				}
				mu.Lock()
				key := [2]int{st.Source, st.Tag}
				dup := seen[key]
				seen[key] = true
				mu.Unlock()
				if dup {
					errs <- fmt.Errorf("message from %d tag %d received twice", st.Source, st.Tag)
					return
				}
			}
		}()
	}
	wg.Wait()
	sent.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != total && !t.Failed() {
		t.Errorf("received %d distinct messages, want %d", len(seen), total)
	}
}

// TestFreeFailsPending: a receive pending on a communicator when it is freed fails with
// ErrClosed, and so does every later operation on it.
func TestFreeFailsPending(t *testing.T) {
	c := needWorld(t)
	d, err := c.Dup()
	if err != nil {
		t.Fatal(err)
	}
	req, err := comm.Irecv(d, make([]byte, 8), comm.AnySource, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Free(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := req.WaitContext(ctx); !errors.Is(err, comm.ErrClosed) {
		t.Errorf("pending Irecv after Free: %v, want ErrClosed", err)
	}
	if _, _, err := d.Iprobe(comm.AnySource, comm.AnyTag); !errors.Is(err, comm.ErrClosed) {
		t.Errorf("Iprobe after Free: %v, want ErrClosed", err)
	}
	if err := commlink.Native(d).Barrier(); !errors.Is(err, comm.ErrClosed) {
		t.Errorf("Barrier after Free: %v, want ErrClosed", err)
	}
	if err := c.Free(); !errors.Is(err, comm.ErrInvalidArgument) {
		t.Errorf("Free of the world: %v, want ErrInvalidArgument", err)
	}
}

// TestWaitContext: Wait on an Irecv with an ending context withdraws it; the message sent
// afterwards goes to the next receive.
func TestWaitContext(t *testing.T) {
	c := needWorld(t)
	dest, src := ring(c)
	req, err := comm.Irecv(c, make([]int32, 1), src, 61)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := req.WaitContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitContext of an unmatched Irecv: %v, want DeadlineExceeded", err)
	}
	select {
	case <-req.Done():
	default:
		t.Fatal("withdrawn request's Done channel is not closed")
	}
	if err := commlink.Native(c).Barrier(); err != nil { // nobody sends before every rank has withdrawn
		t.Fatal(err)
	}
	if err := comm.Send(c, []int32{int32(c.Rank())}, dest, 61); err != nil {
		t.Fatal(err)
	}
	got := []int32{-1}
	if _, err := comm.Recv(c, got, src, 61); err != nil || got[0] != int32(src) {
		t.Fatalf("receive after a withdrawn Irecv: %v, %v", got, err)
	}
}

// TestTruncationKeepsMemory: a truncated receive leaves the memory after the buffer untouched,
// for messages on every protocol (eager, rendezvous) and over self and shared memory.
func TestTruncationKeepsMemory(t *testing.T) {
	c := needWorld(t)
	dest, src := ring(c)
	for _, n := range []int{3000, 200000, 4 << 20} {
		msg := make([]byte, n)
		for i := range msg {
			msg[i] = 0xAB
		}
		req, err := comm.Isend(c, msg, dest, 90)
		if err != nil {
			t.Fatal(err)
		}
		arena := make([]byte, 2*n)
		_, err = comm.Recv(c, arena[:1024:1024], src, 90)
		if !errors.Is(err, comm.ErrTruncated) {
			t.Fatalf("%d bytes into 1024: %v, want ErrTruncated", n, err)
		}
		if _, err := req.Wait(); err != nil {
			t.Fatalf("sender of a truncated %d-byte message: %v", n, err)
		}
		for i := 1024; i < len(arena); i++ {
			if arena[i] != 0 {
				t.Fatalf("%d-byte message truncated to 1024 bytes wrote past the buffer at offset %d", n, i)
			}
		}
	}
}

// TestBeyond2GiB: a message longer than 2^31-1 bytes (MPI's int count) goes from rank 0 to rank
// 1 and is checked at every page and around the chunk boundaries. Two ranks only; skipped in
// -short mode (it moves 2.1 GiB and needs about 4.5 GiB of memory).
func TestBeyond2GiB(t *testing.T) {
	c := needWorld(t)
	if testing.Short() {
		t.Skip("moves 2.1 GiB")
	}
	if c.Size() != 2 {
		t.Skip("runs on 2 ranks")
	}
	const n = math.MaxInt32 + 100<<20 + 3
	probe := func(i int) byte { return byte(i>>12) ^ byte(i) ^ 0x5A }
	positions := func(yield func(int) bool) {
		for i := 0; i < n; i += 4093 {
			if !yield(i) {
				return
			}
		}
		for _, base := range []int{1 << 30, 2 << 30, math.MaxInt32, n} {
			for i := max(0, base-4); i < min(n, base+4); i++ {
				if !yield(i) {
					return
				}
			}
		}
	}
	buf := make([]byte, n)
	switch c.Rank() {
	case 0:
		for i := range positions {
			buf[i] = probe(i)
		}
		if err := comm.Send(c, buf, 1, 3); err != nil {
			t.Fatal(err)
		}
	case 1:
		st, err := comm.Recv(c, buf, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if st.Bytes != n || st.Source != 0 || st.Tag != 3 {
			t.Fatalf("status %+v, want %d bytes from 0 with tag 3", st, n)
		}
		for i := range positions {
			if buf[i] != probe(i) {
				t.Fatalf("byte %d = %#x, want %#x", i, buf[i], probe(i))
			}
		}
	}
}
