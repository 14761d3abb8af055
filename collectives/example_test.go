package collectives_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// Four ranks each hold part of a vector; Allreduce gives every rank the element-wise sum.
func ExampleAllreduce() {
	err := inproc.Run(4, func(c *comm.Comm) error {
		send := []float64{float64(c.Rank()), 1}
		recv := make([]float64, 2)
		if err := collectives.Allreduce(c, send, recv, collectives.Sum); err != nil {
			return err
		}
		if c.Rank() == 0 {
			fmt.Println(recv) // 0+1+2+3 and 1+1+1+1
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: [6 4]
}

// MinLoc finds the smallest value and the rank that holds it.
func ExampleMinLoc() {
	err := inproc.Run(3, func(c *comm.Comm) error {
		temps := []float64{21.5, 19.0, 23.25}
		send := []collectives.Pair[float64]{{Value: temps[c.Rank()], Index: c.Rank()}}
		recv := make([]collectives.Pair[float64], 1)
		if err := collectives.Allreduce(c, send, recv, collectives.MinLoc); err != nil {
			return err
		}
		if c.Rank() == 0 {
			fmt.Printf("coldest: %.1f on rank %d\n", recv[0].Value, recv[0].Index)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: coldest: 19.0 on rank 1
}

// A user operation that is not commutative (here: keep the left operand, "first wins")
// combines in rank order.
func ExampleNewOp() {
	first := collectives.NewOp(func(inout, in []int) {}, false)
	err := inproc.Run(3, func(c *comm.Comm) error {
		recv := make([]int, 1)
		if err := collectives.Scan(c, []int{10 * (c.Rank() + 1)}, recv, first); err != nil {
			return err
		}
		got, err := collectives.GatherValue(c, recv[0], 0)
		if c.Rank() == 0 {
			fmt.Println(got)
		}
		return err
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: [10 10 10]
}

// BcastValue sends any gob-encodable value from the root to every rank.
func ExampleBcastValue() {
	type config struct {
		Steps int
		Name  string
	}
	err := inproc.Run(2, func(c *comm.Comm) error {
		var cfg config
		if c.Rank() == 0 {
			cfg = config{Steps: 100, Name: "heat"}
		}
		cfg, err := collectives.BcastValue(c, cfg, 0)
		if c.Rank() == 1 {
			fmt.Printf("%+v\n", cfg)
		}
		return err
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: {Steps:100 Name:heat}
}

// Algorithm tells which algorithm a collective would run at a given size, for instance to label
// a benchmark's lines.
func ExampleAlgorithm() {
	err := inproc.Run(4, func(c *comm.Comm) error {
		if c.Rank() != 0 {
			return nil // Algorithm moves no message: one rank may ask alone
		}
		for _, n := range []int{1, 1 << 20} {
			name, err := collectives.Algorithm[float64](c, "Allreduce", n)
			if err != nil {
				return err
			}
			fmt.Printf("Allreduce of %d float64 on %d ranks: %s\n", n, c.Size(), name)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// Allreduce of 1 float64 on 4 ranks: recursive-doubling
	// Allreduce of 1048576 float64 on 4 ranks: ring
}

// AllreduceValue combines Go values in rank order with a function of one's own, here the
// product of 2×2 matrices, which is not commutative: M₀·M₁·M₂.
func ExampleAllreduceValue() {
	type matrix struct{ A, B, C, D int }
	mul := func(x, y matrix) matrix {
		return matrix{x.A*y.A + x.B*y.C, x.A*y.B + x.B*y.D, x.C*y.A + x.D*y.C, x.C*y.B + x.D*y.D}
	}
	err := inproc.Run(3, func(c *comm.Comm) error {
		mine := matrix{1, c.Rank() + 1, 0, 1} // [[1, r+1], [0, 1]]
		if c.Rank() == 1 {
			mine = matrix{0, 1, 1, 0} // a swap: the order shows
		}
		prod, err := collectives.AllreduceValue(c, mine, mul)
		if c.Rank() == 2 {
			fmt.Printf("%+v\n", prod)
		}
		return err
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: {A:1 B:4 C:1 D:3}
}

// BarrierContext gives up when its context ends: here rank 1 stays away until rank 0 has
// returned, and rank 0 gets an error wrapping context.DeadlineExceeded after 50 ms instead of
// waiting for ever. (The barrier runs on a Dup: afterwards its collectives are broken on rank
// 0, see "After a failed collective".)
func ExampleBarrierContext() {
	gaveUp := make(chan struct{})
	err := inproc.Run(2, func(world *comm.Comm) error {
		c, err := world.Dup()
		if err != nil {
			return err
		}
		if c.Rank() == 1 {
			<-gaveUp // stays away
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err = collectives.BarrierContext(ctx, c)
		close(gaveUp)
		fmt.Println(errors.Is(err, context.DeadlineExceeded))
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output: true
}
