// Primes tests random integers for primality, two ways, and shows why balancing matters: the
// test is deliberately slow (trial division by every d below n), so a prime n costs about n
// steps and most composites almost none, and the numbers are sorted, so the cost per number
// grows along the list.
//
//   - blocks: rank 0 scatters the list in equal blocks (collectives.Scatterv), every rank
//     tests its block, and Gatherv brings the answers back. The rank with the last block has
//     the largest numbers and works longest while the others wait.
//   - farm: rank 0 hands the numbers out with the task farm (farm.Map, one task per number,
//     batched automatically, the coordinator working too), so ranks that finish early take
//     more.
//
// Rank 0 prints the time of each way (and each rank's time for the blocks), checks both
// answers against a serial run and exits with status 1 if they differ.
//
//	go run ./cmd/gompirun -n 4 ./examples/primes                  # 10,000 numbers below 100,000
//	go run ./cmd/gompirun -n 4 ./examples/primes -shuffle         # random order: blocks balance by chance
package main

import (
	"flag"
	"os"

	"github.com/gompi/gompi/comm"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10000, "how many numbers to test")
	flag.IntVar(&o.max, "max", 100000, "numbers are below this")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random numbers")
	flag.BoolVar(&o.shuffle, "shuffle", false, "keep the numbers in random order instead of sorting them")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return primes(c, o, os.Stdout) })
}
