package comm

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/engine"
	"github.com/gompi/gompi/internal/join"
	"github.com/gompi/gompi/internal/waits"
)

// starter tries to start a world from the process environment; ok is false when the
// environment is not its own. Files built with optional backends (tag mpi) add theirs.
type starter func() (w backend.World, ok bool, err error)

var starters []starter

// the process's world, made once by Init.
var world struct {
	once  sync.Once
	mu    sync.Mutex // guards finalized
	w     backend.World
	c     *Comm
	err   error
	done  bool
	trace *tracing // when GOMPI_TRACE is set (trace.go)
}

// Init starts the process's world communicator and returns it; later calls return the same one.
//
// The backend is chosen from the environment, in this order:
//   - the variables gompirun sets: the rank joins gompirun's job (shared memory with the ranks
//     on its host, TCP with the others);
//   - PMI_FD or PMI_PORT, which Slurm's srun --mpi=pmi2 and MPICH's mpiexec give the processes
//     they start: the ranks find each other through that launcher's PMI server (rank 0 starts
//     gompi's bootstrap service and publishes its address and a fresh job secret there, for
//     the step's processes only), then run on shared memory and TCP as under gompirun. A rank
//     that fails to join ends the whole job through PMI abort; a rank that dies later is
//     noticed by its peers as under gompirun (ErrPeerFailed). srun --kill-on-bad-exit also
//     ends the job when a task exits with an error before Init;
//   - in a binary built with -tags mpi, OpenMPI's variables (as set by its mpirun or by srun
//     --mpi=pmix) select OpenMPI;
//   - otherwise, if another launcher's variables say the process is one of several (OpenMPI's
//     mpirun in a binary without -tags mpi, srun without --mpi=pmi2, PMIx, PMI without a
//     server to reach), Init fails with an error wrapping ErrLauncher that says what it found
//     and what to do, rather than run the program as that many one-rank jobs;
//   - with none of these, the world has one rank, like MPI's singleton init, so a program runs
//     plainly as ./prog too.
//
// With GOMPI_TRACE=PATH in the environment (gompirun --trace sets it), the rank records every
// operation and writes it at Finalize to PATH.rank-N.part, for gompirun to merge into a
// timeline (docs/LAUNCHER.md, "Tracing"); Init and Finalize then also exchange a few messages
// with rank 0 to align the ranks' clocks.
func Init() (*Comm, error) {
	world.once.Do(func() {
		world.w, world.err = startWorld()
		if world.err == nil {
			world.trace = startTrace(world.w)
			world.c = newComm(world.w)
		}
	})
	return world.c, world.err
}

func startWorld() (backend.World, error) {
	if bootstrap.Launched() {
		env, err := bootstrap.ReadEnv()
		if err != nil {
			return nil, fmt.Errorf("comm: %w", err)
		}
		startHangReports(env.Rank)
		waits.SetPhase("in Init, joining the job: connecting to the other ranks")
		t, err := join.Start(env)
		waits.SetPhase("")
		if err != nil {
			return nil, fmt.Errorf("comm: rank %d: join the job: %w", env.Rank, err)
		}
		return engine.NewWorld(t), nil
	}
	if w, ok, err := startPMI(); ok || err != nil {
		return w, err
	}
	for _, s := range starters {
		w, ok, err := s()
		if ok || err != nil {
			return w, err
		}
	}
	if err := otherLauncher(os.Getenv); err != nil {
		return nil, err
	}
	return engine.NewSingleton(), nil
}

// Finalize ends the world: it tells every peer this rank leaves on purpose, waits until the
// peers have done the same (MPI_Finalize is collective), and releases the connections. After it,
// operations on every communicator fail with ErrClosed. Calling it more than once, or without
// Init, is harmless.
func Finalize() error {
	world.mu.Lock()
	defer world.mu.Unlock()
	if world.w == nil || world.done {
		return nil
	}
	world.done = true
	defer finishPMI()
	if world.trace != nil {
		return finalizeTraced(world.w, world.trace)
	}
	return world.w.Finalize()
}

// Main runs f on the world communicator and exits the process: Init, f, Finalize. If Init or f
// returns an error, Main prints it on standard error with the rank and exits with status 1, so
// launchers see the failure; otherwise it exits with status 0.
func Main(f func(world *Comm) error) {
	c, err := Init()
	if err != nil {
		if !errors.As(err, new(printedError)) {
			fmt.Fprintf(os.Stderr, "gompi: %v\n", err)
		}
		os.Exit(1)
	}
	if err := f(c); err != nil {
		fmt.Fprintf(os.Stderr, "gompi: rank %d: %v\n", c.Rank(), err)
		reportOrigin(c.Rank(), err)
		os.Exit(1)
	}
	if err := Finalize(); err != nil {
		fmt.Fprintf(os.Stderr, "gompi: rank %d: finalize: %v\n", c.Rank(), err)
		os.Exit(1)
	}
	os.Exit(0)
}
