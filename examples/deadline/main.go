// Command deadline shows two things package collectives gives a program: a reduction of Go
// values with an operation that is not commutative, and a collective that a deadline bounds
// while one rank stays away.
//
//	go run ./cmd/gompirun -n 5 ./examples/deadline
//
// First every rank r contributes the 2×2 matrix [[1, r+1], [0, 1]] (even r) or [[1, 0], [r+1, 1]]
// (odd r), and AllreduceValue multiplies them in rank order, M₀·M₁·…·Mₚ₋₁; every rank checks
// the product against the serial one (a reduction that reordered the factors would differ).
//
// Then every rank but the last calls BarrierContext with a deadline -wait away, while the last
// rank stays away until the others have given up. The waiting ranks get an error wrapping
// context.DeadlineExceeded soon after the deadline and tell the absent rank so; it then calls
// Barrier late, which returns, usually with an error (the others have left; on two ranks the
// one message the other sent before giving up may be all it needs). The communicator's
// collectives are broken on the ranks that gave up (see "Contexts" in package collectives), so
// the barrier runs on a Dup of the world: the world is untouched, and a last Barrier on it
// succeeds on every rank.
//
// The deadline is one instant for the whole job (rank 0's clock, broadcast), as a job-wide
// deadline would be: if each rank set its own, the rank whose deadline came first would abort
// the barrier for the others a moment before theirs came, and they would report that peer's
// context (comm.ErrCanceled) rather than their own deadline.
//
// Output on 3 ranks (the times vary):
//
//	rank 0: product of 3 matrices in rank order = [[3 10] [2 7]]: correct
//	rank 0: BarrierContext failed 1.002 s after the call, 0.002 s after the deadline: context deadline exceeded
//	rank 1: BarrierContext failed 1.002 s after the call, 0.002 s after the deadline: context deadline exceeded
//	rank 2: stayed away; the late Barrier returned: comm: Barrier: rank 2: rank 0 abandoned the Barrier: its context ended (canceled by peer)
//	rank 0: the world's collectives still work
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	wait := flag.Duration("wait", time.Second, "how long the waiting ranks wait in BarrierContext")
	flag.Parse()
	comm.Main(func(world *comm.Comm) error { return run(world, *wait, os.Stdout) })
}

// Matrix is a 2×2 matrix [[A, B], [C, D]]: a Go value (a struct), reduced with AllreduceValue.
type Matrix struct{ A, B, C, D float64 }

// Mul returns the product m·n.
func (m Matrix) Mul(n Matrix) Matrix {
	return Matrix{m.A*n.A + m.B*n.C, m.A*n.B + m.B*n.D, m.C*n.A + m.D*n.C, m.C*n.B + m.D*n.D}
}

func (m Matrix) String() string { return fmt.Sprintf("[[%g %g] [%g %g]]", m.A, m.B, m.C, m.D) }

// factor is rank r's matrix.
func factor(r int) Matrix {
	if r%2 == 0 {
		return Matrix{1, float64(r + 1), 0, 1}
	}
	return Matrix{1, 0, float64(r + 1), 1}
}

// tagGaveUp is the tag of the word a waiting rank sends the absent one.
const tagGaveUp = 1

// run is the whole program on one rank; it writes that rank's lines to out.
func run(world *comm.Comm, wait time.Duration, out io.Writer) error {
	me, p := world.Rank(), world.Size()

	// 1. A non-commutative reduction of Go values.
	prod, err := collectives.AllreduceValue(world, factor(me), Matrix.Mul)
	if err != nil {
		return err
	}
	want := Matrix{1, 0, 0, 1}
	for r := range p {
		want = want.Mul(factor(r))
	}
	if prod != want {
		return fmt.Errorf("AllreduceValue gave %v, the serial product is %v", prod, want)
	}
	if me == 0 {
		fmt.Fprintf(out, "rank 0: product of %d matrices in rank order = %v: correct\n", p, prod)
	}

	// 2. A barrier bounded by a job-wide deadline, with the last rank away.
	w, err := world.Dup()
	if err != nil {
		return err
	}
	at := []int64{time.Now().Add(wait).UnixNano()}
	if err := collectives.Bcast(world, at, 0); err != nil {
		return err
	}
	deadline := time.Unix(0, at[0])
	absent := p - 1
	switch {
	case p == 1:
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		err := collectives.BarrierContext(ctx, w)
		cancel()
		if err != nil {
			return fmt.Errorf("BarrierContext on one rank: %w", err)
		}
		fmt.Fprintln(out, "rank 0: alone, BarrierContext returned at once")
	case me == absent:
		for range p - 1 {
			if _, err := comm.Recv(world, make([]int32, 1), comm.AnySource, tagGaveUp); err != nil {
				return err
			}
		}
		// The late Barrier returns either way: with an error, or (on few ranks) without one
		// when the messages the others sent before giving up were all it needed.
		lateErr := collectives.Barrier(w)
		fmt.Fprintf(out, "rank %d: stayed away; the late Barrier returned: %v\n", me, lateErr)
	default:
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		start := time.Now()
		err := collectives.BarrierContext(ctx, w)
		returned := time.Now()
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("BarrierContext returned %v, want an error wrapping context.DeadlineExceeded", err)
		}
		fmt.Fprintf(out, "rank %d: BarrierContext failed %.3f s after the call, %.3f s after the deadline: %v\n",
			me, returned.Sub(start).Seconds(), returned.Sub(deadline).Seconds(), context.DeadlineExceeded)
		if err := comm.Send(world, []int32{int32(me)}, absent, tagGaveUp); err != nil {
			return err
		}
	}
	if err := w.Free(); err != nil {
		return err
	}

	// 3. The world was not part of it.
	if err := collectives.Barrier(world); err != nil {
		return fmt.Errorf("Barrier on the world: %w", err)
	}
	if me == 0 {
		fmt.Fprintln(out, "rank 0: the world's collectives still work")
	}
	return nil
}
