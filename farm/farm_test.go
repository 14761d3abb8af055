package farm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// quiet is Options without progress output.
func quiet(o Options) Options {
	o.Progress = ProgressOff
	return o
}

// squares registers "square" (x²) in a new registry.
func squares() (*Tasks, *Task[int, int]) {
	ts := &Tasks{}
	return ts, RegisterFunc(ts, "square", func(x int) int { return x * x })
}

// run runs body on the coordinator of an in-process farm of p ranks, each with its own registry
// made by reg, and returns the joined errors of the ranks.
func run[A, R any](p int, opt Options, reg func(rank int) (*Tasks, *Task[A, R]), body func(f *Farm, t *Task[A, R]) error) error {
	return inproc.Run(p, func(c *comm.Comm) error {
		ts, t := reg(c.Rank())
		return Run(context.Background(), c, ts, opt, func(f *Farm) error { return body(f, t) })
	})
}

func TestMapOrdered(t *testing.T) {
	for p := 1; p <= 4; p++ {
		for _, o := range []Options{{}, {RootWorks: true}, {Batch: 3}, {Batch: 1, InFlight: 1}, {Root: p - 1, RootWorks: true}} {
			for _, n := range []int{0, 1, 7, 1000} {
				label := fmt.Sprintf("p=%d %+v n=%d", p, o, n)
				err := run(p, quiet(o), func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
					args := make([]int, n)
					for i := range args {
						args[i] = i - 3
					}
					got, err := Map(context.Background(), f, sq, args)
					if err != nil {
						return err
					}
					if len(got) != n {
						return fmt.Errorf("%d results, want %d", len(got), n)
					}
					for i, x := range args {
						if got[i] != x*x {
							return fmt.Errorf("[%d] = %d, want %d", i, got[i], x*x)
						}
					}
					return nil
				})
				if err != nil {
					t.Errorf("%s: %v", label, err)
				}
			}
		}
	}
}

// TestMapUnordered checks that every task is yielded once, by a rank that runs tasks.
func TestMapUnordered(t *testing.T) {
	for p := 1; p <= 4; p++ {
		for _, rootWorks := range []bool{false, true} {
			const n = 500
			err := run(p, quiet(Options{RootWorks: rootWorks}), func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
				args := make([]int, n)
				for i := range args {
					args[i] = i
				}
				seen := make([]int, n)
				for r, err := range MapUnordered(context.Background(), f, sq, args) {
					if err != nil {
						return err
					}
					seen[r.Index]++
					if r.Value != r.Index*r.Index {
						return fmt.Errorf("task %d = %d", r.Index, r.Value)
					}
					if r.Rank < 0 || r.Rank >= p || (r.Rank == 0 && !rootWorks && p > 1) {
						return fmt.Errorf("task %d ran on rank %d", r.Index, r.Rank)
					}
				}
				for i, k := range seen {
					if k != 1 {
						return fmt.Errorf("task %d yielded %d times", i, k)
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("p=%d rootWorks=%v: %v", p, rootWorks, err)
			}
		}
	}
}

// TestValues maps structs to slices: arguments and results that travel through gob and raw.
func TestValues(t *testing.T) {
	type point struct {
		Name string
		X, Y float64
	}
	reg := func(int) (*Tasks, *Task[point, []float64]) {
		ts := &Tasks{}
		return ts, RegisterFunc(ts, "row", func(p point) []float64 {
			row := make([]float64, 1000) // 8 KB: travels raw
			for i := range row {
				row[i] = p.X*float64(i) + p.Y
			}
			return row
		})
	}
	for p := 1; p <= 3; p++ {
		err := run(p, quiet(Options{}), reg, func(f *Farm, task *Task[point, []float64]) error {
			args := []point{{"a", 1, 2}, {"b", -1, 0.5}, {"c", 0, 0}, {"d", 3, 3}}
			got, err := Map(context.Background(), f, task, args)
			if err != nil {
				return err
			}
			for i, a := range args {
				if len(got[i]) != 1000 || got[i][999] != a.X*999+a.Y {
					return fmt.Errorf("row %d: %d values, last %v", i, len(got[i]), got[i][len(got[i])-1])
				}
			}
			return nil
		})
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
		}
	}
}

// failing registers "check", which fails on 13 and panics on 29.
func failing(int) (*Tasks, *Task[int, int]) {
	ts := &Tasks{}
	return ts, Register(ts, "check", func(_ context.Context, x int) (int, error) {
		switch x {
		case 13:
			return 0, errors.New("unlucky")
		case 29:
			var s []int
			return s[x], nil
		}
		return x, nil
	})
}

func TestTaskErrors(t *testing.T) {
	for p := 1; p <= 4; p++ {
		for _, o := range []Options{{}, {Batch: 5}, {RootWorks: true}} {
			label := fmt.Sprintf("p=%d %+v", p, o)
			var mapErr error
			var unordered []int
			var errs []*TaskError
			err := run(p, quiet(o), failing, func(f *Farm, task *Task[int, int]) error {
				args := make([]int, 40)
				for i := range args {
					args[i] = i
				}
				_, mapErr = Map(context.Background(), f, task, args[:20])
				for r, err := range MapUnordered(context.Background(), f, task, args) {
					var te *TaskError
					switch {
					case errors.As(err, &te):
						if r.Index != te.Index || r.Rank != te.Rank {
							return fmt.Errorf("result %+v with error %v", r, te)
						}
						errs = append(errs, te)
					case err != nil:
						return err
					default:
						unordered = append(unordered, r.Index)
					}
				}
				return nil
			})
			if err != nil {
				t.Errorf("%s: %v", label, err)
				continue
			}
			var te *TaskError
			if !errors.As(mapErr, &te) || te.Index != 13 || te.Task != "check" || te.Panicked || !strings.Contains(mapErr.Error(), "unlucky") {
				t.Errorf("%s: Map error %v, want task check[13]'s error", label, mapErr)
			} else if want := fmt.Sprintf("farm: task check[13] on rank %d: unlucky", te.Rank); mapErr.Error() != want {
				t.Errorf("%s: Map error %q, want %q", label, mapErr, want)
			}
			if len(unordered) != 38 || len(errs) != 2 {
				t.Errorf("%s: MapUnordered gave %d results and %d errors, want 38 and 2", label, len(unordered), len(errs))
				continue
			}
			for _, e := range errs {
				switch e.Index {
				case 13:
				case 29:
					if !e.Panicked || !strings.Contains(e.Error(), "panicked: runtime error: index out of range") || !strings.Contains(e.Stack, "farm.failing") {
						t.Errorf("%s: panic reported as %v (stack %d bytes)", label, e, len(e.Stack))
					}
				default:
					t.Errorf("%s: unexpected error %v", label, e)
				}
			}
		}
	}
}

// TestCancel cancels a map whose tasks wait for their context, then maps again on the same farm.
func TestCancel(t *testing.T) {
	for p := 1; p <= 4; p++ {
		var cancelled atomic.Int32
		started := make(chan struct{}, 100)
		reg := func(int) (*Tasks, *Task[int, int]) {
			ts := &Tasks{}
			RegisterFunc(ts, "square", func(x int) int { return x * x })
			return ts, Register(ts, "wait", func(ctx context.Context, x int) (int, error) {
				started <- struct{}{}
				<-ctx.Done()
				cancelled.Add(1)
				return 0, ctx.Err()
			})
		}
		var mapErr error
		var after []int
		err := run(p, quiet(Options{}), reg, func(f *Farm, wait *Task[int, int]) error {
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-started
				cancel()
			}()
			_, mapErr = Map(ctx, f, wait, make([]int, 50))
			sq := f.tasks.lookup("square").handle.(*Task[int, int])
			var err error
			after, err = Map(context.Background(), f, sq, []int{1, 2, 3, 4, 5})
			return err
		})
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		if !errors.Is(mapErr, context.Canceled) || !strings.Contains(mapErr.Error(), "tasks done when the context ended") {
			t.Errorf("p=%d: cancelled map returned %v", p, mapErr)
		}
		if fmt.Sprint(after) != "[1 4 9 16 25]" {
			t.Errorf("p=%d: the map after the cancelled one gave %v", p, after)
		}
		// Run has returned on every rank: every task that started has seen its context end.
		if s, c := len(started), int(cancelled.Load()); c != s+1 && c != s { // the first start was consumed
			t.Errorf("p=%d: %d tasks started after the first, %d saw their context end", p, s, c)
		}
	}
}

// TestBreak stops a MapUnordered loop early; the farm goes on.
func TestBreak(t *testing.T) {
	err := run(3, quiet(Options{Batch: 1}), func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
		for range 3 {
			k := 0
			for _, err := range MapUnordered(context.Background(), f, sq, make([]int, 100)) {
				if err != nil {
					return err
				}
				if k++; k == 10 {
					break
				}
			}
		}
		got, err := Map(context.Background(), f, sq, []int{3})
		if err == nil && got[0] != 9 {
			err = fmt.Errorf("got %v", got)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// TestBatching checks the number of batches: automatic batching sends far fewer than one per
// tiny task, Batch sets their size.
func TestBatching(t *testing.T) {
	const n = 10000
	for _, c := range []struct {
		o        Options
		min, max int
	}{
		{Options{}, 6, n / 20},
		{Options{Batch: 1}, n, n},
		{Options{Batch: 7}, (n + 6) / 7, (n + 6) / 7},
		{Options{Batch: 7, RootWorks: true}, (n + 6) / 7, (n + 6) / 7},
	} {
		var batches atomic.Int64
		err := run(3, quiet(c.o), func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
			f.onTake = func(span) { batches.Add(1) }
			args := make([]int, n)
			for i := range args {
				args[i] = i
			}
			got, err := Map(context.Background(), f, sq, args)
			for i := range got {
				if got[i] != i*i {
					return fmt.Errorf("[%d] = %d", i, got[i])
				}
			}
			return err
		})
		if b := int(batches.Load()); err != nil || b < c.min || b > c.max {
			t.Errorf("%+v: %d batches (want %d..%d), error %v", c.o, b, c.min, c.max, err)
		}
	}
}

func TestBatchSize(t *testing.T) {
	f := &Farm{}
	j := &mapJob[int, int]{f: f}
	for _, c := range []struct {
		batch, rest, workers, ran int
		per                       time.Duration
		want                      int
	}{
		{0, 1000, 3, 0, 0, 1},                       // nothing measured yet
		{0, 1000, 3, 10, time.Millisecond, 10},      // 10 ms of 1 ms tasks
		{0, 1000, 3, 10, 100 * time.Millisecond, 1}, // long tasks go one by one
		{0, 1000, 3, 10, time.Microsecond, 83},      // a quarter of each worker's share
		{0, 1000, 3, 10, 0, 83},                     // unmeasurably short
		{0, 5, 3, 10, time.Microsecond, 1},          // the tail goes one by one
		{4, 1000, 3, 0, 0, 4},
		{4, 3, 3, 0, 0, 3},
	} {
		f.opt.Batch = c.batch
		j.ranTasks, j.ranTime = c.ran, time.Duration(c.ran)*c.per
		if got := j.batchSize(c.rest, c.workers); got != c.want {
			t.Errorf("%+v: batch of %d, want %d", c, got, c.want)
		}
	}
}

func TestProgressLines(t *testing.T) {
	var out bytes.Buffer
	err := run(3, Options{Progress: ProgressLines, Output: &out, Batch: 1}, func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
		_, err := Map(context.Background(), f, sq, make([]int, 25))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "square: 3/25\nsquare: 5/25\nsquare: 8/25\nsquare: 10/25\nsquare: 13/25\nsquare: 15/25\nsquare: 18/25\nsquare: 20/25\nsquare: 23/25\nsquare: 25/25\n"
	if out.String() != want {
		t.Errorf("progress lines:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	err := run(2, Options{Progress: ProgressBar, Output: &out}, func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
		_, err := Map(context.Background(), f, sq, make([]int, 40))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "\r") || !strings.Contains(s, "100%") || !strings.Contains(s, "(40/40") || !strings.HasSuffix(s, "\n") {
		t.Errorf("bar output %q: want carriage returns, 100%%, (40/40 and a final newline", s)
	}
}

// TestNotRegistered maps a task of another registry, and a task registered on the coordinator
// only, after the farm started (the workers do not know it).
func TestNotRegistered(t *testing.T) {
	for p := 1; p <= 3; p++ {
		var foreign, late error
		err := run(p, quiet(Options{}), func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
			_, other := squares()
			_, foreign = Map(context.Background(), f, other, []int{1})
			cube := RegisterFunc(f.tasks, "cube", func(x int) int { return x * x * x })
			got, err := Map(context.Background(), f, cube, []int{1, 2, 3})
			late = err
			if p == 1 && (err != nil || fmt.Sprint(got) != "[1 8 27]") {
				return fmt.Errorf("cube on the coordinator alone: %v, %v", got, err)
			}
			// The same with arguments that travel as values, not raw.
			shout := RegisterFunc(f.tasks, "shout", strings.ToUpper)
			words, err := Map(context.Background(), f, shout, []string{"a", "b"})
			if p == 1 && fmt.Sprint(words) != "[A B]" || p > 1 && !errors.Is(err, ErrNotRegistered) {
				return fmt.Errorf("shout: %v, %v", words, err)
			}
			// The farm still works.
			sqs, err := Map(context.Background(), f, sq, []int{1, 2, 3})
			if err != nil || fmt.Sprint(sqs) != "[1 4 9]" {
				return fmt.Errorf("square after the unknown tasks: %v, %v", sqs, err)
			}
			return nil
		})
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		if !errors.Is(foreign, ErrNotRegistered) || !strings.Contains(foreign.Error(), `"square"`) {
			t.Errorf("p=%d: foreign task: %v", p, foreign)
		}
		var te *TaskError
		if p > 1 && (!errors.Is(late, ErrNotRegistered) || !errors.As(late, &te) || te.Rank == 0 ||
			late.Error() != fmt.Sprintf("farm: task cube[%d] on rank %d: task not registered on rank %d", te.Index, te.Rank, te.Rank)) {
			t.Errorf("p=%d: task unknown to the workers: %v", p, late)
		}
	}
}

// TestSetup checks that bad options or registries that differ fail on every rank, not hang.
func TestSetup(t *testing.T) {
	cases := []struct {
		name string
		rank func(c *comm.Comm) (*Tasks, Options)
		want string
	}{
		{"root out of range", func(c *comm.Comm) (*Tasks, Options) {
			ts, _ := squares()
			return ts, Options{Root: 5}
		}, "Options.Root 5 is not a rank"},
		{"root differs", func(c *comm.Comm) (*Tasks, Options) {
			ts, _ := squares()
			return ts, Options{Root: c.Rank() % 2}
		}, "different coordinators"},
		{"negative batch on one rank", func(c *comm.Comm) (*Tasks, Options) {
			ts, _ := squares()
			if c.Rank() == 1 {
				return ts, Options{Batch: -1}
			}
			return ts, Options{}
		}, "could not start"},
		{"other tasks on rank 2", func(c *comm.Comm) (*Tasks, Options) {
			ts, _ := squares()
			if c.Rank() == 2 {
				RegisterFunc(ts, "extra", func(x int) int { return x })
			}
			return ts, Options{}
		}, "rank 2 registered other tasks than rank 0"},
		{"other types on rank 1", func(c *comm.Comm) (*Tasks, Options) {
			ts := &Tasks{}
			if c.Rank() == 1 {
				RegisterFunc(ts, "square", func(x float64) float64 { return x * x })
			} else {
				RegisterFunc(ts, "square", func(x int) int { return x * x })
			}
			return ts, Options{}
		}, "rank 1 registered other tasks"},
		{"registered twice", func(c *comm.Comm) (*Tasks, Options) {
			ts, _ := squares()
			RegisterFunc(ts, "square", func(x int) int { return x })
			return ts, Options{}
		}, `task "square" registered twice`},
	}
	for _, c := range cases {
		var mu sync.Mutex
		var errs []error
		inproc.Run(3, func(cm *comm.Comm) error {
			ts, o := c.rank(cm)
			err := Run(context.Background(), cm, ts, quiet(o), func(*Farm) error { return nil })
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			return nil
		})
		sawWant := false
		for _, err := range errs {
			if !errors.Is(err, ErrSetup) {
				t.Errorf("%s: a rank returned %v, want ErrSetup", c.name, err)
			}
			sawWant = sawWant || (err != nil && strings.Contains(err.Error(), c.want))
		}
		if !sawWant {
			t.Errorf("%s: no rank's error says %q: %v", c.name, c.want, errs)
		}
	}
}

// TestClosed maps on a farm whose body has returned.
func TestClosed(t *testing.T) {
	var kept *Farm
	var sq *Task[int, int]
	err := run(2, quiet(Options{}), func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, t *Task[int, int]) error {
		kept, sq = f, t
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Map(context.Background(), kept, sq, []int{1}); !errors.Is(err, ErrClosed) {
		t.Errorf("Map after Run: %v, want ErrClosed", err)
	}
}

// TestCoordinatorDies fails the coordinator's rank mid-map: the workers' Run returns an error
// naming it.
func TestCoordinatorDies(t *testing.T) {
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	var rootRun sync.WaitGroup
	var mu sync.Mutex
	workerErrs := map[int]error{}
	err := inproc.Run(3, func(c *comm.Comm) error {
		ts := &Tasks{}
		wait := Register(ts, "wait", func(ctx context.Context, x int) (int, error) {
			started <- struct{}{}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		if c.Rank() != 0 {
			err := Run(context.Background(), c, ts, quiet(Options{}), nil)
			mu.Lock()
			workerErrs[c.Rank()] = err
			mu.Unlock()
			return err
		}
		// The coordinator's rank fails while its farm runs: inproc makes it vanish for its
		// peers, as a crash would. Its farm is let go at the end of the test.
		rootRun.Add(1)
		go func() {
			defer rootRun.Done()
			Run(context.Background(), c, ts, quiet(Options{}), func(f *Farm) error {
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					<-release
					cancel()
				}()
				Map(ctx, f, wait, make([]int, 10))
				return nil
			})
		}()
		<-started
		return errors.New("the coordinator's rank crashes")
	})
	close(release)
	rootRun.Wait()
	if err == nil {
		t.Fatal("no error")
	}
	for r := 1; r < 3; r++ {
		if e := workerErrs[r]; !errors.Is(e, comm.ErrPeerFailed) || !strings.Contains(e.Error(), "serving the coordinator (rank 0)") {
			t.Errorf("rank %d: %v", r, e)
		}
	}
}

// TestBodyReturnsDuringMap returns from Run's body while a map runs in another goroutine: the
// map fails with ErrClosed, its tasks are cancelled, and Run returns.
func TestBodyReturnsDuringMap(t *testing.T) {
	started := make(chan struct{}, 10)
	mapErr := make(chan error, 1)
	err := inproc.Run(3, func(c *comm.Comm) error {
		ts := &Tasks{}
		wait := Register(ts, "wait", func(ctx context.Context, x int) (int, error) {
			started <- struct{}{}
			<-ctx.Done()
			return 0, ctx.Err()
		})
		return Run(context.Background(), c, ts, quiet(Options{}), func(f *Farm) error {
			go func() {
				_, err := Map(context.Background(), f, wait, make([]int, 10))
				mapErr <- err
			}()
			<-started
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-mapErr; !errors.Is(err, ErrClosed) {
		t.Errorf("the map returned %v, want ErrClosed", err)
	}
}

// TestProgressAuto checks that ProgressAuto prints lines on a buffer and draws a bar on a
// terminal (a pseudo-terminal, when the system has them).
func TestProgressAuto(t *testing.T) {
	mapOn := func(w io.Writer) error {
		return run(2, Options{Output: w}, func(int) (*Tasks, *Task[int, int]) { return squares() }, func(f *Farm, sq *Task[int, int]) error {
			_, err := Map(context.Background(), f, sq, make([]int, 20))
			return err
		})
	}
	var buf bytes.Buffer
	if err := mapOn(&buf); err != nil || !strings.HasSuffix(buf.String(), "square: 20/20\n") || strings.Contains(buf.String(), "\r") {
		t.Errorf("on a buffer: %q, %v; want lines ending with square: 20/20", buf.String(), err)
	}
	master, slave, err := openPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(master) // until the slave side is closed (EIO)
		read <- string(b)
	}()
	err = mapOn(slave)
	slave.Close()
	s := <-read
	if err != nil || !strings.Contains(s, "\r") || !strings.Contains(s, "100%") || !strings.Contains(s, "(20/20") {
		t.Errorf("on a terminal: %q, %v; want a bar reaching 100%% (20/20)", s, err)
	}
}

// openPTY opens a pseudo-terminal pair.
func openPTY() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err == nil {
		slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	}
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, slave, nil
}

// TestNoRetryOnTaskError checks that Retries concerns deaths only: a task that fails or panics
// runs once.
func TestNoRetryOnTaskError(t *testing.T) {
	var calls atomic.Int32
	reg := func(int) (*Tasks, *Task[int, int]) {
		ts := &Tasks{}
		return ts, Register(ts, "once", func(_ context.Context, x int) (int, error) {
			calls.Add(1)
			if x == 1 {
				panic("boom")
			}
			return 0, errors.New("fails")
		})
	}
	for p := 1; p <= 3; p++ {
		calls.Store(0)
		var errs []error
		err := run(p, quiet(Options{Retries: 3}), reg, func(f *Farm, task *Task[int, int]) error {
			for _, err := range MapUnordered(context.Background(), f, task, []int{0, 1}) {
				errs = append(errs, err)
			}
			return nil
		})
		if err != nil || len(errs) != 2 || calls.Load() != 2 {
			t.Errorf("p=%d: %d calls for 2 failing tasks, errors %v, %v; want each run once", p, calls.Load(), errs, err)
		}
	}
}
