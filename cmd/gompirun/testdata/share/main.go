// Command share is a test rank for gompirun: after comm.Init it prints its share of the host,
// "rank R procs P cpus C1,C2,...": its GOMAXPROCS and the CPUs its threads may run on (the
// affinity of every thread, which must agree; a thread that disagrees is printed as an error).
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/comm"
)

func main() {
	comm.Main(func(c *comm.Comm) error {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return err
		}
		var first string
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			var set unix.CPUSet
			if err := unix.SchedGetaffinity(tid, &set); err != nil {
				continue // the thread has exited
			}
			var cpus []string
			for cpu := 0; cpu < 1<<12 && len(cpus) < set.Count(); cpu++ {
				if set.IsSet(cpu) {
					cpus = append(cpus, strconv.Itoa(cpu))
				}
			}
			s := strings.Join(cpus, ",")
			if first == "" {
				first = s
			} else if s != first {
				return fmt.Errorf("thread %d may run on CPUs %s, another on %s", tid, s, first)
			}
		}
		fmt.Printf("rank %d procs %d cpus %s\n", c.Rank(), runtime.GOMAXPROCS(0), first)
		return nil
	})
}
