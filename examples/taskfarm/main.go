// Taskfarm runs the lectures' "dummy tasks" through a task farm (package farm): tasks that
// sleep for a random time and report which rank and which process (pid) ran them. Rank 0
// hands them out and the other ranks run them; it maps them once with Map (results in task
// order) and once with MapUnordered (results as they complete), prints both with the time
// taken against the time slept, and checks that every task ran once, on a worker, for at least
// its delay, and that each rank kept one pid. It exits with status 1 when a check fails or a
// worker died and its tasks could not be retried.
//
//	go run ./cmd/gompirun -n 4 ./examples/taskfarm -tasks 20 -delay 100ms
//
// A worker that dies is reported with its rank and task, not waited for. To see it, let the
// job outlive a rank (gompirun --keep-going) and kill a worker, or let one kill itself:
//
//	go run ./cmd/gompirun -n 4 --keep-going ./examples/taskfarm -kill 2             # Map fails, naming rank and task
//	go run ./cmd/gompirun -n 4 --keep-going ./examples/taskfarm -kill 2 -retries 1  # its task runs again elsewhere
//
// (gompirun then exits 137, the dead rank's code, whatever rank 0 decides.) With -announce
// every worker prints "rank R (pid P) starts task I" as it starts a task, so you can pick a
// pid to kill by hand.
package main

import (
	"flag"
	"os"
	"time"

	"github.com/gompi/gompi/comm"
)

func main() {
	var o options
	flag.IntVar(&o.tasks, "tasks", 20, "number of tasks")
	flag.DurationVar(&o.delay, "delay", 100*time.Millisecond, "longest delay of a task; delays are uniform in [delay/2, delay)")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the random delays")
	flag.BoolVar(&o.announce, "announce", false, `workers print "rank R (pid P) starts task I" as they start a task`)
	flag.IntVar(&o.kill, "kill", -1, "this worker rank kills itself with SIGKILL as it starts its second task (-1: none)")
	flag.IntVar(&o.retries, "retries", 0, "times a task whose worker died is run again elsewhere")
	flag.Parse()
	comm.Main(func(c *comm.Comm) error { return taskfarm(c, o, os.Stdout) })
}
