// Command hello is the program scripts/launchbench starts: Init, one Allreduce of the ranks'
// numbers, a line from rank 0 ("SIZE SUM", the sum being SIZE·(SIZE-1)/2), Finalize. It does
// as little as a program can while still joining the job and moving a message between every
// rank, so that its run time under a launcher is the launcher's and the library's start-up and
// shutdown. CI runs it on 256 ranks.
package main

import (
	"fmt"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

func main() {
	comm.Main(func(w *comm.Comm) error {
		sum := make([]int, 1)
		if err := collectives.Allreduce(w, []int{w.Rank()}, sum, collectives.Sum); err != nil {
			return err
		}
		if w.Rank() == 0 {
			fmt.Println(w.Size(), sum[0])
		}
		return nil
	})
}
