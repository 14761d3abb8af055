package farm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/gompi/gompi/collectives"
	"github.com/gompi/gompi/comm"
)

// Farm is the coordinator's handle on a running farm, given to Run's body: pass it to Map and
// MapUnordered. It is valid until the body returns.
//
// A Farm is safe for concurrent use, but runs one map at a time: a Map called while another
// runs waits for it (or for its own context to end).
type Farm struct {
	c     *comm.Comm // the farm's own communicator, a Dup of Run's
	tasks *Tasks
	opt   Options
	shown *display
	sem   chan struct{} // holds a token while a map runs
	wg    sync.WaitGroup

	onTake func(span) // tests: called, with f.mu held, for every batch handed out

	mu      sync.Mutex // guards the fields below and every job's state; never held across a send or receive
	cond    *sync.Cond // on mu: a job, a worker's window, a cancel or closing changed
	job     job        // the map running, or nil
	closing bool       // the body has returned: workers are being stopped
	remotes []*remote  // one per rank but the coordinator
	deaths  []*DeathError
	nextMap uint64
}

// Run runs a task farm on c: every rank of c calls it (it is collective) with the same tasks
// registered and the same Options.Root. On the coordinator (Options.Root) it calls body with
// the farm, and body maps tasks with Map and MapUnordered; on the other ranks, the workers, it
// runs the tasks the coordinator sends until body has returned, and body is not called (it may
// be nil there).
//
// Run returns, on the coordinator, body's error, once every worker still alive has finished
// the task it was running and stopped; on a worker, nil once the coordinator has stopped it.
// A worker whose coordinator dies returns an error wrapping comm.ErrPeerFailed. Cancelling ctx
// on the coordinator cancels the maps and, through their contexts, the tasks running; on a
// worker it makes the worker leave the farm (the coordinator sees it go like a dead worker).
//
// The farm talks on a Dup of c, so its messages never meet the program's on c. Its ranks
// cannot take part in anything else on c while it runs: workers are busy serving, and the
// coordinator's calls on c would wait for them.
func Run(ctx context.Context, c *comm.Comm, tasks *Tasks, opt Options, body func(f *Farm) error) error {
	if c == nil || tasks == nil {
		return fmt.Errorf("farm: Run needs a communicator and a registry of tasks (got %v, %v)", c, tasks)
	}
	fc, err := c.DupContext(ctx)
	if err != nil {
		return fmt.Errorf("farm: Run: %w", err)
	}
	defer fc.Free()
	opt, bad := opt.withDefaults(c.Size())
	fp, regErr := tasks.check()
	if bad == nil {
		bad = regErr
	}
	if bad == nil && fc.Rank() == opt.Root && body == nil {
		bad = errors.New("farm: Run: nil body on the coordinator")
	}
	if err := agree(ctx, fc, opt.Root, fp, bad); err != nil {
		return err
	}
	if fc.Rank() != opt.Root {
		return serve(ctx, fc, opt.Root, tasks)
	}
	f := &Farm{c: fc, tasks: tasks, opt: opt, sem: make(chan struct{}, 1)}
	f.cond = sync.NewCond(&f.mu)
	f.shown = newDisplay(opt.Progress, opt.Output)
	return f.run(body)
}

// agree checks, before any rank starts serving, that every rank could start the farm, names the
// same coordinator and registered the same tasks, so that a mistake fails on every rank alike
// instead of leaving some ranks waiting. Each rank contributes (its own setup failed?, root,
// fingerprint of its tasks).
func agree(ctx context.Context, c *comm.Comm, root int, fp uint64, bad error) error {
	mine := []uint64{0, uint64(root), fp}
	if bad != nil {
		mine[0] = 1
	}
	all := make([]uint64, 3*c.Size())
	if err := collectives.AllgatherContext(ctx, c, mine, all); err != nil {
		return fmt.Errorf("farm: Run: agreeing to start: %w", err)
	}
	if bad != nil {
		return fmt.Errorf("%w (%w)", bad, ErrSetup)
	}
	var failed []string
	for r := range c.Size() {
		if all[3*r] != 0 {
			failed = append(failed, fmt.Sprint(r))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("farm: rank %s could not start the farm (its error says why) (%w)", strings.Join(failed, ", "), ErrSetup)
	}
	for r := range c.Size() {
		if int(all[3*r+1]) != root {
			return fmt.Errorf("farm: the ranks name different coordinators: rank %d gives Options.Root %d, rank %d gives %d (%w)", c.Rank(), root, r, all[3*r+1], ErrSetup)
		}
	}
	for r := range c.Size() {
		if all[3*r+2] != all[3*root+2] {
			return fmt.Errorf("farm: rank %d registered other tasks than rank %d, the coordinator: every rank must register the same tasks, with the same types, under the same names (%w)", r, root, ErrSetup)
		}
	}
	return nil
}

// run is Run on the coordinator: start a sender and a receiver per worker (and a local worker
// if the coordinator works), call body, then stop the workers and wait for them.
func (f *Farm) run(body func(f *Farm) error) error {
	for r := range f.c.Size() {
		if r == f.opt.Root {
			continue
		}
		w := &remote{rank: r}
		w.ctx, w.cancel = context.WithCancel(context.Background())
		f.remotes = append(f.remotes, w)
		f.wg.Add(2)
		go f.sender(w)
		go f.receiver(w)
	}
	if f.opt.RootWorks {
		f.wg.Add(1)
		go f.localWorker()
	}
	defer f.close()
	return body(f)
}

// close stops the workers (each sender sends stop after the cancels it owes) and waits until
// every worker has said bye or died, and the local worker has returned. A map still running
// (in a goroutine that outlived the body) fails.
func (f *Farm) close() {
	f.mu.Lock()
	f.closing = true
	if f.job != nil {
		f.job.fail(fmt.Errorf("farm: %s: %w (Run's body returned while it ran)", f.job.name(), ErrClosed))
	}
	f.cond.Broadcast()
	f.mu.Unlock()
	f.wg.Wait()
	for _, w := range f.remotes {
		w.cancel()
	}
}

// Deaths returns the workers that died or left while the farm ran, in the order the
// coordinator saw them go, including those whose tasks were retried.
func (f *Farm) Deaths() []*DeathError {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*DeathError(nil), f.deaths...)
}

// Workers returns the ranks that run tasks and are still alive: the workers, and the
// coordinator when it works too.
func (f *Farm) Workers() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var rs []int
	if f.opt.RootWorks {
		rs = append(rs, f.opt.Root)
	}
	for _, w := range f.remotes {
		if !w.dead {
			rs = append(rs, w.rank)
		}
	}
	slices.Sort(rs)
	return rs
}

// Rank returns the coordinator's rank.
func (f *Farm) Rank() int { return f.opt.Root }
