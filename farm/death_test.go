package farm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// deathJob runs a farm of p in-process ranks mapping "work" (x -> x²) over 0..n-1. The first
// worker to start task poison (any task, if poison is -1) dies there: its rank's function
// returns an error while the task still runs, so inproc makes the rank vanish for its peers as
// a crashed process would (its peers' operations with it fail with ErrPeerFailed). Tasks on
// the coordinator wait for that death, so that it happens whatever the coordinator takes.
// With leave, the worker's own context ends instead: it leaves the farm and its rank finishes
// normally.
type deathJob struct {
	p, n, poison int
	opt          Options
	leave        bool

	victim  atomic.Int32 // the rank that died, or -1
	results []int
	mapErr  error
	deaths  []*DeathError
	workers []int // f.Workers() after the map
	out     bytes.Buffer
}

func (d *deathJob) run(t *testing.T) error {
	d.victim.Store(-1)
	d.opt.Output = &d.out
	if d.opt.Progress == ProgressAuto {
		d.opt.Progress = ProgressOff
	}
	var once sync.Once
	died, mapped := make(chan struct{}), make(chan struct{})
	dying := make([]chan struct{}, d.p)
	for i := range dying {
		dying[i] = make(chan struct{})
	}
	var leftovers sync.WaitGroup
	var mu sync.Mutex
	var cancels []context.CancelFunc
	defer func() { // let the dead rank's farm go: its task sees its context end
		mu.Lock()
		for _, cancel := range cancels {
			cancel()
		}
		mu.Unlock()
		leftovers.Wait()
	}()
	return inproc.Run(d.p, func(c *comm.Comm) error {
		ts := &Tasks{}
		work := Register(ts, "work", func(ctx context.Context, x int) (int, error) {
			if c.Rank() == d.opt.Root {
				<-died
			} else if x == d.poison || d.poison < 0 {
				die := false
				once.Do(func() { die = true })
				if die {
					d.victim.Store(int32(c.Rank()))
					close(dying[c.Rank()])
					close(died)
					<-ctx.Done()
					return 0, ctx.Err()
				}
			}
			return x * x, nil
		})
		ctx, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancels = append(cancels, cancel)
		mu.Unlock()
		done := make(chan error, 1)
		leftovers.Add(1)
		go func() {
			defer leftovers.Done()
			done <- Run(ctx, c, ts, d.opt, func(f *Farm) error {
				args := make([]int, d.n)
				for i := range args {
					args[i] = i
				}
				d.results, d.mapErr = Map(context.Background(), f, work, args)
				d.deaths, d.workers = f.Deaths(), f.Workers()
				close(mapped)
				return nil
			})
		}()
		select {
		case err := <-done:
			return err
		case <-dying[c.Rank()]:
		}
		if d.leave {
			cancel()
			err := <-done
			if !strings.Contains(fmt.Sprint(err), "left the farm") {
				return fmt.Errorf("a worker whose context ended returned %v", err)
			}
			<-mapped // finalize only then, so the coordinator sees the departure, not the rank's end
			return nil
		}
		return errors.New("killed")
	})
}

func TestWorkerDies(t *testing.T) {
	for _, c := range []struct {
		p       int
		opt     Options
		poison  int
		retried bool
	}{
		{2, Options{Batch: 1}, 17, false},
		{3, Options{Batch: 1}, 17, false},
		{4, Options{Batch: 1, InFlight: 1}, 17, false},
		{3, Options{Batch: 1, Retries: 1}, 17, true},
		{4, Options{Retries: 2}, 17, true},
		{2, Options{Retries: 1, RootWorks: true}, -1, true},
		{3, Options{Batch: 4, Retries: 1, RootWorks: true}, -1, true},
		{3, Options{Root: 2, Batch: 1}, 17, false},
	} {
		label := fmt.Sprintf("p=%d %+v", c.p, c.opt)
		d := &deathJob{p: c.p, n: 60, poison: c.poison, opt: c.opt}
		err := d.run(t)
		victim := int(d.victim.Load())
		if victim < 0 || victim == c.opt.Root {
			t.Errorf("%s: no worker died (error %v)", label, err)
			continue
		}
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("rank %d: killed", victim)) {
			t.Errorf("%s: inproc.Run returned %v, want the victim's error only", label, err)
		}
		if c.retried {
			if d.mapErr != nil {
				t.Errorf("%s: Map with retries failed: %v", label, d.mapErr)
				continue
			}
			for i, r := range d.results {
				if r != i*i {
					t.Errorf("%s: [%d] = %d", label, i, r)
				}
			}
			want := c.p - 2 // the workers, less the victim
			if c.opt.RootWorks {
				want++
			}
			if slices.Contains(d.workers, victim) || len(d.workers) != want {
				t.Errorf("%s: workers after rank %d died: %v", label, victim, d.workers)
			}
			if len(d.deaths) != 1 || !d.deaths[0].Retried || d.deaths[0].Rank != victim || !errors.Is(d.deaths[0], comm.ErrPeerFailed) {
				t.Errorf("%s: deaths %v", label, d.deaths)
			} else if !strings.Contains(d.out.String(), d.deaths[0].Error()) {
				t.Errorf("%s: output %q does not report %v", label, d.out.String(), d.deaths[0])
			}
			continue
		}
		var de *DeathError
		if !errors.As(d.mapErr, &de) || de.Rank != victim || de.Task != "work" || !errors.Is(d.mapErr, comm.ErrPeerFailed) {
			t.Errorf("%s: Map returned %v, want rank %d's death", label, d.mapErr, victim)
			continue
		}
		if fmt.Sprint(de.Running) != "[17]" {
			t.Errorf("%s: running %v, want [17]", label, de.Running)
		}
		if want := fmt.Sprintf("farm: rank %d died running task work[17]", victim); !strings.HasPrefix(de.Error(), want) {
			t.Errorf("%s: %q does not start with %q", label, de.Error(), want)
		}
		if c.p == 2 && !errors.Is(d.mapErr, ErrNoWorkers) {
			t.Errorf("%s: the only worker died: %v, want ErrNoWorkers", label, d.mapErr)
		}
	}
}

// TestWorkerLeaves ends a worker's context while it holds a task: the coordinator sees it
// leave, as it would see it die.
func TestWorkerLeaves(t *testing.T) {
	d := &deathJob{p: 3, n: 30, poison: 5, opt: Options{Batch: 1}, leave: true}
	if err := d.run(t); err != nil {
		t.Fatal(err)
	}
	var de *DeathError
	if !errors.As(d.mapErr, &de) || !errors.Is(d.mapErr, errLeft) || fmt.Sprint(de.Running) != "[5]" {
		t.Errorf("Map returned %v, want a departure while running task 5", d.mapErr)
	}
}
