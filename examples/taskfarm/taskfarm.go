package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"syscall"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
)

// options are the program's flags.
type options struct {
	tasks    int
	delay    time.Duration
	seed     uint64
	announce bool
	kill     int
	retries  int
}

// job is one dummy task: sleep for Delay.
type job struct {
	Index int
	Delay time.Duration
}

// report is what a task returns: who ran it and how long it slept.
type report struct {
	Index, Rank, Pid int
	Slept            time.Duration
}

// jobs returns the tasks, with delays uniform in [delay/2, delay) from seed.
func jobs(n int, delay time.Duration, seed uint64) []job {
	rng := rand.New(rand.NewPCG(seed, 0))
	js := make([]job, n)
	for i := range js {
		js[i] = job{Index: i, Delay: delay/2 + time.Duration(rng.Int64N(int64(delay/2)+1))}
	}
	return js
}

// taskfarm is the program on rank c.Rank(); rank 0 prints to out, workers print there only
// with -announce.
func taskfarm(c *comm.Comm, o options, out io.Writer) error {
	if o.tasks < 0 || o.delay < 0 || o.retries < 0 {
		return fmt.Errorf("taskfarm: -tasks %d, -delay %v, -retries %d: want none negative", o.tasks, o.delay, o.retries)
	}
	if o.kill == 0 || o.kill >= c.Size() {
		return fmt.Errorf("taskfarm: -kill %d: want a worker's rank, 1 to %d", o.kill, c.Size()-1)
	}
	var tasks farm.Tasks
	started := 0 // tasks started on this rank; a worker runs one at a time
	sleep := farm.Register(&tasks, "sleep", func(ctx context.Context, j job) (report, error) {
		if o.announce {
			fmt.Fprintf(out, "rank %d (pid %d) starts task %d\n", c.Rank(), os.Getpid(), j.Index)
		}
		if started++; c.Rank() == o.kill && started == 2 {
			syscall.Kill(os.Getpid(), syscall.SIGKILL) // a worker dies as it starts its second task
		}
		t0 := time.Now()
		select {
		case <-time.After(j.Delay):
		case <-ctx.Done():
			return report{}, ctx.Err()
		}
		return report{Index: j.Index, Rank: c.Rank(), Pid: os.Getpid(), Slept: time.Since(t0)}, nil
	})
	opt := farm.Options{Retries: o.retries, Progress: farm.ProgressOff}
	return farm.Run(context.Background(), c, &tasks, opt, func(f *farm.Farm) error {
		js := jobs(o.tasks, o.delay, o.seed)
		var slept time.Duration
		for _, j := range js {
			slept += j.Delay
		}
		fmt.Fprintf(out, "taskfarm: %d tasks of %v to %v on ranks %v (rank 0 hands them out)\n", o.tasks, o.delay/2, o.delay, f.Workers())
		pids := map[int]int{}

		fmt.Fprintln(out, "Map, results in task order:")
		t0 := time.Now()
		reports, err := farm.Map(context.Background(), f, sleep, js)
		took := time.Since(t0)
		if err != nil {
			var de *farm.DeathError
			if errors.As(err, &de) {
				fmt.Fprintf(out, "a worker died: rank %d, task %v: %v\n", de.Rank, de.Running, de.Err)
			}
			return fmt.Errorf("taskfarm: Map: %w", err)
		}
		for i, r := range reports {
			fmt.Fprintf(out, "  task %2d: slept %v on rank %d (pid %d)\n", i, r.Slept.Round(time.Millisecond), r.Rank, r.Pid)
			if err := check(f, js[i], r, pids); err != nil {
				return err
			}
		}
		fmt.Fprintf(out, "Map: %v of sleep in %v (%.1f×)\n", slept.Round(time.Millisecond), took.Round(time.Millisecond), slept.Seconds()/took.Seconds())

		fmt.Fprintln(out, "MapUnordered, results as they complete:")
		seen := make([]bool, len(js))
		t0 = time.Now()
		for r, err := range farm.MapUnordered(context.Background(), f, sleep, js) {
			if err != nil {
				return fmt.Errorf("taskfarm: MapUnordered: %w", err)
			}
			fmt.Fprintf(out, "  task %2d: slept %v on rank %d (pid %d)\n", r.Index, r.Value.Slept.Round(time.Millisecond), r.Rank, r.Value.Pid)
			if seen[r.Index] {
				return fmt.Errorf("taskfarm: task %d came back twice", r.Index)
			}
			seen[r.Index] = true
			if err := check(f, js[r.Index], r.Value, pids); err != nil {
				return err
			}
		}
		took = time.Since(t0)
		fmt.Fprintf(out, "MapUnordered: %v of sleep in %v (%.1f×)\n", slept.Round(time.Millisecond), took.Round(time.Millisecond), slept.Seconds()/took.Seconds())
		for _, d := range f.Deaths() {
			fmt.Fprintf(out, "a worker died: rank %d, task %v, run again elsewhere: %v\n", d.Rank, d.Running, d.Err)
		}
		fmt.Fprintf(out, "checked: %d tasks in each map, each once, on a worker, for at least its delay\n", len(js))
		return nil
	})
}

// check checks a task's report: the right task, run by a worker (the coordinator does not run
// tasks unless it is alone), for at least its delay, in the one process of its rank.
func check(f *farm.Farm, j job, r report, pids map[int]int) error {
	switch {
	case r.Index != j.Index:
		return fmt.Errorf("taskfarm: task %d reported as task %d", j.Index, r.Index)
	case r.Rank == f.Rank() && len(f.Workers()) > 1:
		return fmt.Errorf("taskfarm: task %d ran on the coordinator", j.Index)
	case r.Slept < j.Delay:
		return fmt.Errorf("taskfarm: task %d slept %v, less than its %v", j.Index, r.Slept, j.Delay)
	}
	if pid, ok := pids[r.Rank]; ok && pid != r.Pid {
		return fmt.Errorf("taskfarm: rank %d ran tasks in processes %d and %d", r.Rank, pid, r.Pid)
	}
	pids[r.Rank] = r.Pid
	return nil
}
