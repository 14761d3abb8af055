package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
)

// options are the program's flags.
type options struct {
	n, max  int
	seed    uint64
	shuffle bool
}

// isPrime tests n by trial division by every d from 2 to n-1: slow on purpose, so that a prime
// costs about n steps and a composite as many as its smallest factor.
func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d < n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// numbers returns n random integers in [0, max) from seed, sorted unless shuffle.
func numbers(n, max int, seed uint64, shuffle bool) []int {
	rng := rand.New(rand.NewPCG(seed, 0))
	v := make([]int, n)
	for i := range v {
		v[i] = rng.IntN(max)
	}
	if !shuffle {
		slices.Sort(v)
	}
	return v
}

// blocks returns how many of n numbers each of p ranks gets: as equal as possible.
func blocks(n, p int) []int {
	counts := make([]int, p)
	for i := range counts {
		counts[i] = n / p
		if i < n%p {
			counts[i]++
		}
	}
	return counts
}

// asByte turns an answer into a byte, which typed buffers carry (bool is not a comm.Elem).
func asByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// primes is the program: both ways on every rank, the report and the check on rank 0.
func primes(c *comm.Comm, o options, out io.Writer) error {
	if o.n < 0 || o.max < 1 {
		return fmt.Errorf("primes: -n %d -max %d: want n >= 0 and max >= 1", o.n, o.max)
	}
	root := c.Rank() == 0
	var nums []int
	if root {
		nums = numbers(o.n, o.max, o.seed, o.shuffle)
	}

	// Blocks: equal shares, fixed in advance.
	if err := collectives.Barrier(c); err != nil {
		return err
	}
	t0 := time.Now()
	counts := blocks(o.n, c.Size())
	mine := make([]int, counts[c.Rank()])
	if err := collectives.Scatterv(c, collectives.Packed(nums, counts), mine, 0); err != nil {
		return err
	}
	tMine := time.Now()
	answers := make([]uint8, len(mine))
	for i, n := range mine {
		answers[i] = asByte(isPrime(n))
	}
	mineTook := time.Since(tMine).Seconds()
	var byBlocks []uint8
	if root {
		byBlocks = make([]uint8, o.n)
	}
	if err := collectives.Gatherv(c, answers, collectives.Packed(byBlocks, counts), 0); err != nil {
		return err
	}
	blocksTook := time.Since(t0)
	rankTimes := make([]float64, c.Size())
	if err := collectives.Gather(c, []float64{mineTook}, rankTimes, 0); err != nil {
		return err
	}

	// Farm: one task per number, handed out as ranks become free.
	var tasks farm.Tasks
	test := farm.RegisterFunc(&tasks, "isprime", isPrime)
	var byFarm []bool
	var farmTook time.Duration
	perRank := make([]int, c.Size()) // numbers each rank tested in the farm
	opt := farm.Options{RootWorks: true, Progress: farm.ProgressOff}
	err := farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
		t0 := time.Now()
		byFarm = make([]bool, len(nums))
		// farm.Map would do; MapUnordered also says who tested each number.
		for r, err := range farm.MapUnordered(context.Background(), f, test, nums) {
			if err != nil {
				return err
			}
			byFarm[r.Index] = r.Value
			perRank[r.Rank]++
		}
		farmTook = time.Since(t0)
		return nil
	})
	if err != nil || !root {
		return err
	}

	t0 = time.Now()
	serial := make([]bool, o.n)
	count := 0
	for i, n := range nums {
		serial[i] = isPrime(n)
		if serial[i] {
			count++
		}
	}
	serialTook := time.Since(t0)
	order := "sorted"
	if o.shuffle {
		order = "in random order"
	}
	fmt.Fprintf(out, "primes: %d random integers below %d, %s; %d primes\n", o.n, o.max, order, count)
	fmt.Fprintf(out, "serial: %.3f s\n", serialTook.Seconds())
	fmt.Fprintf(out, "blocks: %.3f s (Scatterv, Gatherv; time of each rank's block:", blocksTook.Seconds())
	for _, s := range rankTimes {
		fmt.Fprintf(out, " %.3f", s)
	}
	fmt.Fprintf(out, " s)\nfarm:   %.3f s (MapUnordered; numbers each rank took as it became free: %s)\n", farmTook.Seconds(), strings.Trim(fmt.Sprint(perRank), "[]"))
	for i := range serial {
		if byBlocks[i] != asByte(serial[i]) || byFarm[i] != serial[i] {
			return fmt.Errorf("primes: %d: serial says %v, blocks %v, farm %v", nums[i], serial[i], byBlocks[i] == 1, byFarm[i])
		}
	}
	fmt.Fprintln(out, "checked: blocks and farm agree with the serial test")
	return nil
}
