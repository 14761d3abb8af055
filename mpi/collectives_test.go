//go:build mpi

package mpi_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

// The tests below run package collectives' Context variants over OpenMPI, where the
// collectives with predefined operations are OpenMPI's own (uninterruptible) calls and the
// others run gompi's algorithms over MPI point-to-point.

// dupWorld returns a Dup of the world for one test (freed by the test).
func dupWorld(t *testing.T) *comm.Comm {
	t.Helper()
	w, err := needWorld(t).Dup()
	if err != nil {
		t.Fatalf("Dup: %v", err)
	}
	return w
}

// sharedDeadline returns a deadline d from now, the same on every rank (rank 0's, broadcast),
// so that the waiting ranks' contexts end together.
func sharedDeadline(t *testing.T, c *comm.Comm, d time.Duration) time.Time {
	t.Helper()
	at := []int64{time.Now().Add(d).UnixNano()}
	if err := collectives.Bcast(c, at, 0); err != nil {
		t.Fatalf("Bcast of the deadline: %v", err)
	}
	return time.Unix(0, at[0])
}

// awayTag is the tag of the word each waiting rank sends the absent one once it has returned.
const awayTag = 71

// waitForOthers receives the word of every other rank of c that it has returned.
func waitForOthers(t *testing.T, c *comm.Comm) {
	t.Helper()
	for range c.Size() - 1 {
		if _, err := comm.Recv(c, make([]int32, 1), comm.AnySource, awayTag); err != nil {
			t.Fatalf("waiting for the others: %v", err)
		}
	}
}

// TestBarrierContextNative: every rank but the last calls BarrierContext with a deadline 1 s
// away; the last calls Barrier only when the others have returned. OpenMPI's barrier cannot be
// interrupted, so a waiting rank's call goes on in the background while BarrierContext returns
// context.DeadlineExceeded within half a second of the deadline. The late Barrier then
// completes with those background calls, and the communicator stays usable: an Allreduce on it
// gives every rank the right sum.
func TestBarrierContextNative(t *testing.T) {
	w := dupWorld(t)
	p, me := w.Size(), w.Rank()
	deadline := sharedDeadline(t, w, time.Second)
	absent := p - 1
	if me == absent && p > 1 {
		waitForOthers(t, w)
		if err := collectives.Barrier(w); err != nil {
			t.Fatalf("the late Barrier: %v", err)
		}
	} else {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := collectives.BarrierContext(ctx, w)
		late := time.Since(deadline)
		cancel()
		if p == 1 {
			if err != nil {
				t.Fatalf("BarrierContext on one rank: %v", err)
			}
		} else {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("rank %d: BarrierContext returned %v, want context.DeadlineExceeded", me, err)
			}
			// Generous: the point is that it returns at the deadline, not when the absent
			// rank comes (that rank waits for this one's message below, so it never would).
			if late > 5*time.Second {
				t.Errorf("rank %d: BarrierContext returned %v after the deadline", me, late)
			}
			if err := comm.Send(w, []int32{int32(me)}, absent, awayTag); err != nil {
				t.Fatal(err)
			}
		}
	}
	sum := []float64{0}
	if err := collectives.Allreduce(w, []float64{float64(me)}, sum, collectives.Sum); err != nil || sum[0] != float64(p*(p-1)/2) {
		t.Fatalf("rank %d: Allreduce after the abandoned barrier: %v, %v", me, sum, err)
	}
	if err := w.Free(); err != nil {
		t.Fatal(err)
	}
}

// TestUserOpContextMPI: a user operation runs gompi's algorithm over MPI point-to-point, so a
// deadline fails the Allreduce as on gompi's own transports: the waiting ranks get
// context.DeadlineExceeded promptly, the late rank's Allreduce returns, and the communicator's
// collectives that run gompi's algorithms are then broken on every rank (ErrCollectiveAborted),
// while its native ones still work. A Dup of it works.
func TestUserOpContextMPI(t *testing.T) {
	w := dupWorld(t)
	p, me := w.Size(), w.Rank()
	if p == 1 {
		t.Skip("needs a rank to stay away")
	}
	add := collectives.NewOp(func(inout, in []float64) {
		for i := range inout {
			inout[i] += in[i]
		}
	}, true)
	deadline := sharedDeadline(t, w, 300*time.Millisecond)
	absent := p - 1
	send, recv := []float64{float64(me)}, make([]float64, 1)
	if me == absent {
		waitForOthers(t, w)
		err := collectives.Allreduce(w, send, recv, add)
		t.Logf("the late Allreduce: %v", err)
	} else {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := collectives.AllreduceContext(ctx, w, send, recv, add)
		late := time.Since(deadline)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("rank %d: AllreduceContext returned %v, want context.DeadlineExceeded", me, err)
		}
		// Generous, as in TestBarrierContextNative: the absent rank waits for this rank's
		// message below, so a wait that the deadline did not end would hang, not be late.
		if late > 5*time.Second {
			t.Errorf("rank %d: AllreduceContext returned %v after the deadline", me, late)
		}
		if err := comm.Send(w, []int32{int32(me)}, absent, awayTag); err != nil {
			t.Fatal(err)
		}
	}
	if err := collectives.Allreduce(w, send, recv, add); !errors.Is(err, collectives.ErrCollectiveAborted) {
		t.Errorf("rank %d: user-op Allreduce on the broken communicator: %v, want ErrCollectiveAborted", me, err)
	}
	if err := collectives.Barrier(w); err != nil {
		t.Errorf("rank %d: native Barrier on it: %v", me, err)
	}
	d, err := w.Dup()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Free(); err != nil {
		t.Fatal(err)
	}
	if err := collectives.Allreduce(d, send, recv, add); err != nil || recv[0] != float64(p*(p-1)/2) {
		t.Errorf("rank %d: user-op Allreduce on a Dup: %v, %v", me, recv, err)
	}
	if err := d.Free(); err != nil {
		t.Fatal(err)
	}
}

// TestNativeContextResults runs the native collectives through their Context variants with a
// context that could end but does not: each call then runs on private copies in the
// background, and the results must be those of the plain calls (in place, Exscan's untouched
// rank 0, Reduce's nil receive buffer off the root included).
func TestNativeContextResults(t *testing.T) {
	c := needWorld(t)
	p, me := c.Size(), c.Rank()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fail := func(what string, err error, got, want any) {
		t.Helper()
		if err != nil {
			t.Fatalf("rank %d: %s: %v", me, what, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("rank %d: %s = %v, want %v", me, what, got, want)
		}
	}
	tri := func(k int) int { return k * (k + 1) / 2 } // 0+1+...+k

	buf := []int{me, 10 * me}
	err := collectives.AllreduceContext(ctx, c, buf, buf, collectives.Sum)
	fail("Allreduce in place", err, buf, []int{tri(p - 1), 10 * tri(p-1)})

	var recv []int
	if me == p-1 {
		recv = make([]int, 1)
	}
	err = collectives.ReduceContext(ctx, c, []int{me + 1}, recv, collectives.Prod, p-1)
	if me == p-1 {
		want := 1
		for r := 1; r <= p; r++ {
			want *= r
		}
		fail("Reduce Prod", err, recv[0], want)
	} else {
		fail("Reduce Prod off the root", err, recv, []int(nil))
	}

	b := []int32{0, 0, 0}
	if me == 0 {
		b = []int32{7, 8, 9}
	}
	err = collectives.BcastContext(ctx, c, b, 0)
	fail("Bcast", err, b, []int32{7, 8, 9})

	ex := []int{-1}
	err = collectives.ExscanContext(ctx, c, []int{me + 1}, ex, collectives.Sum)
	if me == 0 {
		fail("Exscan rank 0", err, ex, []int{-1})
	} else {
		fail("Exscan", err, ex, []int{tri(me)})
	}
	sc := []int{0}
	err = collectives.ScanContext(ctx, c, []int{me + 1}, sc, collectives.Sum)
	fail("Scan", err, sc, []int{tri(me + 1)})

	counts := make([]int, p)
	for i := range counts {
		counts[i] = i + 1
	}
	all := make([]float64, tri(p))
	err = collectives.AllgathervContext(ctx, c, slices.Repeat([]float64{float64(me)}, me+1), collectives.Packed(all, counts))
	var want []float64
	for r := range p {
		want = append(want, slices.Repeat([]float64{float64(r)}, r+1)...)
	}
	fail("Allgatherv", err, all, want)

	mine := make([]float64, me+1)
	var whole collectives.Blocks[float64]
	if me == 0 {
		whole = collectives.Packed(want, counts)
	}
	err = collectives.ScattervContext(ctx, c, whole, mine, 0)
	fail("Scatterv", err, mine, slices.Repeat([]float64{float64(me)}, me+1))

	rs := make([]float64, me+1)
	err = collectives.ReduceScatterContext(ctx, c, collectives.Packed(slices.Repeat([]float64{1}, tri(p)), counts), rs, collectives.Sum)
	fail("ReduceScatter", err, rs, slices.Repeat([]float64{float64(p)}, me+1))

	a2a := make([]int64, p)
	err = collectives.AlltoallContext(ctx, c, slices.Repeat([]int64{int64(me)}, p), a2a)
	want64 := make([]int64, p)
	for r := range want64 {
		want64[r] = int64(r)
	}
	fail("Alltoall", err, a2a, want64)

	v, err := collectives.BcastValueContext(ctx, c, map[string]int{"root": me}, p-1)
	fail("BcastValue", err, v["root"], p-1)
}

// mat is a 2×2 matrix for the value reductions: its product is not commutative.
type mat struct{ A, B, C, D int64 }

func (x mat) mul(y mat) mat {
	return mat{x.A*y.A + x.B*y.C, x.A*y.B + x.B*y.D, x.C*y.A + x.D*y.C, x.C*y.B + x.D*y.D}
}

func matOf(r int) mat {
	if r%2 == 0 {
		return mat{1, int64(r + 1), 0, 1}
	}
	return mat{1, 0, int64(r + 1), 1}
}

// TestValueReductionsMPI runs AllreduceValue, ReduceValue and ScanValue (gompi's algorithms
// over MPI point-to-point) with a matrix product and checks them against the serial product
// in rank order.
func TestValueReductionsMPI(t *testing.T) {
	c := needWorld(t)
	p, me := c.Size(), c.Rank()
	prefix := func(k int) mat {
		acc := mat{1, 0, 0, 1}
		for r := range k {
			acc = acc.mul(matOf(r))
		}
		return acc
	}
	got, err := collectives.AllreduceValue(c, matOf(me), mat.mul)
	if err != nil || got != prefix(p) {
		t.Fatalf("rank %d: AllreduceValue = %+v, %v; want %+v", me, got, err, prefix(p))
	}
	for root := range p {
		got, err := collectives.ReduceValue(c, matOf(me), mat.mul, root)
		want := mat{}
		if me == root {
			want = prefix(p)
		}
		if err != nil || got != want {
			t.Fatalf("rank %d: ReduceValue to %d = %+v, %v; want %+v", me, root, got, err, want)
		}
	}
	got, err = collectives.ScanValue(c, matOf(me), mat.mul)
	if err != nil || got != prefix(me+1) {
		t.Fatalf("rank %d: ScanValue = %+v, %v; want %+v", me, got, err, prefix(me+1))
	}
}
