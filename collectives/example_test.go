package collectives_test

import (
	"fmt"

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
