//go:build mpi

package mpi

import (
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/gompi/gompi/internal/backend"
)

// Launched reports whether the process was started by OpenMPI's mpirun (or another PMIx
// launcher), judging by the environment variables it sets for every rank.
func Launched() bool {
	return os.Getenv("OMPI_COMM_WORLD_RANK") != "" || os.Getenv("PMIX_RANK") != ""
}

// life guards the validity of MPI itself: every MPI call that uses a communicator handle or
// starts an operation runs under life.RLock, after checking that neither the world is finalized
// nor the communicator freed. Free and Finalize take the write lock, so no call is halfway
// through when a handle dies. Lock order: life before engine.mu.
var life struct {
	sync.RWMutex
	finalized bool
}

// state is the process's MPI lifetime: initialized once by Init, finalized once by Finalize.
var state struct {
	once sync.Once
	w    *world
	err  error

	mu     sync.Mutex // guards done and finErr
	done   bool
	finErr error

	// main runs functions on the OS thread that called MPI_Init_thread, which MPI wants to
	// be the one that calls MPI_Finalize (MPI 4.1 §11.2.1); goroutines move between threads.
	main chan func()
}

// world is MPI_COMM_WORLD plus the job's lifetime.
type world struct {
	*communicator
}

// Init initializes OpenMPI with MPI_THREAD_MULTIPLE and returns the world communicator; later
// calls return the same world (or the same error). It fails if OpenMPI grants less than
// MPI_THREAD_MULTIPLE, which gompi needs because goroutines call MPI from any OS thread at once.
//
// Started by mpirun, the world holds every rank of the job; started plainly, OpenMPI makes a
// singleton world of one rank.
//
// Before initializing, Init sets the defaults in safeDefaults for every variable the
// environment does not set already, unless the job has several programs (an MPMD job, started
// as `mpirun -n 1 a : -n 1 b`): all processes must agree on these settings, and the other
// programs may not be gompi's.
func Init() (backend.World, error) {
	state.once.Do(func() { state.w, state.err = start() })
	if state.err != nil {
		return nil, state.err
	}
	return state.w, nil
}

// safeDefaults turns off the RDMA (put/get) protocols of OpenMPI's self, shared-memory and TCP
// transports. In OpenMPI 4.1 (seen with 4.1.4), ob1's RDMA paths write a truncated message in
// full past the end of the receive buffer: the error is reported, but the memory after the
// buffer is already overwritten, and the Go heap with it. gompi reports truncation as an error
// and keeps running, so it needs the copying protocols, which truncate correctly
// (TestTruncationKeepsMemory checks it; docs/MPI.md says more). A user who sets these variables
// takes the responsibility back. The settings cost some bandwidth on large messages between
// processes of one host (two copies through shared memory instead of one with CMA).
var safeDefaults = [][2]string{
	{"OMPI_MCA_btl_self_flags", "send,inplace"},
	{"OMPI_MCA_btl_vader_flags", "send,inplace"},
	{"OMPI_MCA_btl_tcp_flags", "send,inplace,need-ack,need-csum"},
}

func start() (*world, error) {
	if n := os.Getenv("OMPI_NUM_APP_CTX"); n != "" && n != "1" {
		// MPMD: keep OpenMPI's defaults, which the other programs use too; see docs/MPI.md.
		return initMPI()
	}
	for _, kv := range safeDefaults {
		if _, ok := os.LookupEnv(kv[0]); !ok {
			if err := os.Setenv(kv[0], kv[1]); err != nil {
				return nil, fmt.Errorf("mpi: set %s: %w", kv[0], err)
			}
		}
	}
	return initMPI()
}

// initMPI initializes MPI on a thread of its own and wraps MPI_COMM_WORLD.
func initMPI() (*world, error) {
	state.main = make(chan func())
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		for f := range state.main {
			f()
		}
	}()
	var provided, rc int
	onMain(func() { provided, rc = cInit() })
	if rc != mpiSuccess {
		return nil, codeError(rc, "Init", backend.NoDirection, backend.NoPeer, -1)
	}
	if provided < mpiThreadMulti {
		onMain(func() { cFinalize() })
		return nil, backend.Errorf("Init", backend.NoDirection, backend.NoPeer, -1, backend.ErrUnsupported,
			"OpenMPI grants thread level %d, gompi needs MPI_THREAD_MULTIPLE (%d); use an OpenMPI built with thread support", provided, mpiThreadMulti)
	}
	c, err := newCommunicator(cCommWorld(), false)
	if err != nil {
		onMain(func() { cFinalize() })
		return nil, err
	}
	c.world = true
	return &world{c}, nil
}

// onMain runs f on MPI's main thread and waits for it.
func onMain(f func()) {
	done := make(chan struct{})
	state.main <- func() { f(); close(done) }
	<-done
}

// Finalize ends the job for this rank: pending receives are cancelled and pending operations
// get up to two seconds to complete (those that do not fail with ErrClosed), then MPI_Finalize
// runs, which OpenMPI makes collective over the job. Afterwards every operation on every
// communicator fails with ErrClosed. Later calls return the first call's result.
func (w *world) Finalize() error {
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.done {
		return state.finErr
	}
	state.done = true
	life.Lock()
	life.finalized = true
	life.Unlock()
	theEngine.stop()
	var rc int
	onMain(func() { rc = cFinalize() })
	close(state.main)
	state.finErr = codeError(rc, "Finalize", backend.NoDirection, backend.NoPeer, -1)
	return state.finErr
}

// Free refuses to free the world; Finalize ends it.
func (w *world) Free() error {
	return backend.Errorf("Free", backend.NoDirection, backend.NoPeer, -1, backend.ErrInvalidArgument, "the world communicator cannot be freed; use Finalize")
}

// Finalized reports whether this process has finalized MPI through Finalize.
func Finalized() bool {
	life.RLock()
	defer life.RUnlock()
	return life.finalized
}
