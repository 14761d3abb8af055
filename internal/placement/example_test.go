package placement_test

import (
	"fmt"

	"github.com/gompi/gompi/internal/placement"
)

// Local rank 1 of 2 on a host with CPUs 0-3 gets CPUs 2 and 3, two Ps, and polls before it
// parks; with 8 ranks on those 4 CPUs it is left unbound and yields the core while it polls.
func ExampleDecide() {
	p := placement.Decide(placement.Facts{Allowed: []int{0, 1, 2, 3}, CPUs: 4, LocalRank: 1, LocalSize: 2, Bind: true})
	fmt.Println(p.Bind, p.Procs, p.Wait)
	p = placement.Decide(placement.Facts{Allowed: []int{0, 1, 2, 3}, CPUs: 4, LocalRank: 1, LocalSize: 8, Bind: true})
	fmt.Println(p.Bind, p.Procs, p.Wait)
	// Output:
	// [2 3] 2 spin 50µs, then park
	// [] 1 yield 2ms, then park
}
