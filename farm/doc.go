// Package farm runs a task farm on a gompi communicator: one rank, the coordinator, hands out
// tasks to the others, the workers, as they become free, and collects the results. It gives a
// gompi job what multiprocessing.Pool.map, ipyparallel's load-balanced view and joblib give
// Python users, on an ordinary job started by gompirun (no process is spawned): Map returns
// the results in the order of the arguments, MapUnordered yields them as they arrive.
//
// It sits above comm and collectives, and uses nothing else: a program could write it.
//
// # Use
//
// Tasks are functions registered by name, so that only their arguments and results travel:
// every rank runs the same binary and registers the same tasks, then calls Run, which is
// collective. The coordinator runs the body given to Run; the workers serve until it returns.
//
//	var tasks farm.Tasks
//	isPrime := farm.RegisterFunc(&tasks, "isprime", func(n int) bool { ... })
//
//	comm.Main(func(world *comm.Comm) error {
//		return farm.Run(ctx, world, &tasks, farm.Options{}, func(f *farm.Farm) error {
//			prime, err := farm.Map(ctx, f, isPrime, numbers) // on the coordinator only
//			...
//		})
//	})
//
// # How tasks travel
//
// The coordinator (Options.Root, rank 0 by default) keeps a sender and a receiver goroutine
// per worker. A worker holds at most Options.InFlight batches (2: one running, one waiting),
// so a fast worker gets more work than a slow one and no worker waits for the next task; the
// coordinator may run tasks too (Options.RootWorks). Arguments and results of fixed-size types
// without pointers (numbers, bools, arrays and structs of them), and slices of them (a []float64
// row), travel as their memory, with no encoding; other types travel as comm values
// (encoding/gob). examples/cdist, whose tasks return 80 KB of float64 each, took 0.20 s on 3
// ranks when its batches of results went through gob, 0.09 s raw (a serial run: 0.09 s).
//
// Tiny tasks are batched: the first tasks go one by one; from the time they took on the
// workers, later batches hold as many tasks as take about 10 ms, but never more than a quarter
// of each worker's share of the tasks left, so that the end of the map still spreads over
// every worker. Options.Batch fixes the size instead.
//
// # Failures
//
// A task that returns an error or panics fails with a *TaskError naming the task, its index
// and the rank (a panic is recovered, with its stack): Map returns the first one, MapUnordered
// yields each and goes on. A worker that dies (its process killed, its connection lost) is
// seen by the coordinator at once, as an error wrapping comm.ErrPeerFailed on its messages:
// the map fails with a *DeathError naming the rank, the task it was running and the tasks
// queued on it, or, with Options.Retries, those tasks run again on other ranks and the death
// is reported on Options.Output and by Farm.Deaths. A task's own error is never retried.
//
// gompirun ends a whole job when one rank fails; for the coordinator to outlive a worker,
// start the job with gompirun --keep-going, which lets the other ranks run on and still
// reports the dead rank and exits non-zero at the end (docs/LAUNCHER.md).
//
// A map ends early, with an error, when its context ends: tasks waiting are dropped and tasks
// running see their context end. The farm goes on with the next map.
//
// # Progress
//
// Each map shows its progress on Options.Output (standard error by default): a bar drawn with
// github.com/schollz/progressbar/v3 when the output is a terminal, plain "name: done/total"
// lines at every tenth of the way otherwise, nothing with ProgressOff. Under gompirun a rank's
// standard error is a pipe, but gompirun says (GOMPI_STDERR_TERMINAL=1) when its own standard
// error is a terminal, and forwards the bar as it is drawn (docs/LAUNCHER.md, "Output").
//
// # Cost per task
//
// BenchmarkMapTiny maps tasks that do nothing and reports the farm's time per task
// (go test -run '^$' -bench MapTiny -benchtime 5000x -count 3 ./farm/, run twice; medians of
// the 6 runs, on the 2-core development machine shared with other jobs, so 4 ranks share 2
// cores and single runs vary by up to 2×):
//
//	                              in-process        shared memory
//	                              2 ranks  4 ranks  2 ranks  4 ranks
//	int -> int, batched           0.21 µs  0.18 µs  0.38 µs  0.49 µs
//	int -> int, one per message   3.6 µs   4.5 µs   17 µs    11 µs
//	string -> string, batched     1.4 µs   3.4 µs   1.9 µs   4.0 µs
//	string -> string, one each    195 µs   179 µs   192 µs   181 µs
//
// So a task should take well over 20 µs to be worth sending alone, and automatic batching
// brings tasks of microseconds down to the cost of calling them. Values cost far more than
// plain memory because gob builds an encoder and a decoder for every message (comm's values
// do), which is why plain types skip it.
//
// # Concurrency
//
// The Farm given to the body may be used from several goroutines, but runs one map at a time:
// a second Map waits for the first. A Map must not be called from inside a MapUnordered loop
// on the same farm. Task functions run one at a time on each worker, and on the coordinator
// (when it works) beside its goroutines that talk to the workers.
package farm
