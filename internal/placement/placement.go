// Package placement fits a rank to its share of its host, once per process and before any
// transport starts: which CPUs its threads may run on (binding), how many Ps the Go runtime
// gets (GOMAXPROCS), and how the rank waits for messages (poll, yield, park). comm.Init
// decides a Plan from the launcher's environment (bootstrap.Env) and the host's facts,
// applies it, and hands its Wait policy to the transports, which follow it but do not decide
// it. docs/LAUNCHER.md ("Placement") explains the choices for users.
package placement

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/bootstrap"
)

// DefaultSpin is how long a rank that has a core to itself polls for a message before it
// parks: long enough to cover the round trip of a small message between two such ranks
// (about 8 µs over TCP here), short enough that an idle rank gives its core back at once.
// docs/BENCHMARKS.md has the measurement.
const DefaultSpin = 50 * time.Microsecond

// DefaultYield is how long a rank on a host with more ranks than cores keeps polling, calling
// sched_yield between tries so that the rank it waits for gets the core, before it parks.
// Parking costs a wake-up through the kernel per message (several µs, more when the core is
// busy); polling with yields keeps that off the path of every message of a tight exchange
// (a Barrier, a small Allreduce) while a rank that waits long stops using the core.
// docs/BENCHMARKS.md has the measurement behind the value.
const DefaultYield = 2 * time.Millisecond

// Wait is how a rank waits for a message: it polls for Spin (yielding only to its own
// goroutines between tries), then for Yield with sched_yield between tries (giving the core to
// other processes), then parks until a peer wakes it. Zero durations skip a stage.
type Wait struct {
	Spin  time.Duration
	Yield time.Duration
}

// String describes w as the verbose report prints it.
func (w Wait) String() string {
	var s []string
	if w.Spin > 0 {
		s = append(s, "spin "+w.Spin.String())
	}
	if w.Yield > 0 {
		s = append(s, "yield "+w.Yield.String())
	}
	return strings.Join(append(s, "park"), ", then ")
}

// Facts are what a Plan is decided from.
type Facts struct {
	Allowed   []int // CPUs in the process's affinity mask (nil if unknown)
	CPUs      int   // CPUs the process may use: Go's default GOMAXPROCS (mask and cgroup quota)
	UserProcs bool  // GOMAXPROCS is set in the environment: keep it
	LocalRank int   // this rank among the ranks on its host (-1 if unknown)
	LocalSize int   // ranks on the host
	Bind      bool  // binding wanted (gompirun --bind-to core, the default)
	SpinWait  *time.Duration
	Wait      string // "spin", "yield" or "park" to force the kind of wait (GOMPI_WAIT); "" to decide
}

// Plan is a rank's share of its host.
type Plan struct {
	Bind  []int // the CPUs to bind the process to; nil: leave its affinity alone
	Procs int   // the GOMAXPROCS to set; 0: leave it
	// Wait is how the rank waits for messages from peers on its host (shared memory).
	Wait Wait
	// Spin is how long a TCP connection's reader may poll before parking, when each reader
	// can hold a P of its own (TCPSpin decides per job).
	Spin time.Duration
	// Fits is true when the host's ranks fit its CPUs (no core is shared).
	Fits bool

	procs int // GOMAXPROCS once the plan is applied
}

// Decide decides a rank's share of its host, the way mpirun places ranks by default: when the
// host's ranks fit its CPUs, each rank gets a block of them of its own.
//
//   - Binding: local rank L of S gets allowed CPUs [L·k, (L+1)·k) with k = len(Allowed)/S,
//     when S <= len(Allowed). Unbound, the kernel moves the ranks' threads about, and two
//     polling ranks on one core take turns by whole time slices.
//   - GOMAXPROCS: unless the user set it, CPUs/S (at least 1). Go's default lets every rank
//     run threads on every core, and ranks on one host then wake each other's threads across
//     cores on every message; one P per core of the rank's share made Allreduces faster
//     here, also with more ranks than cores (docs/BENCHMARKS.md).
//   - Waiting: when the ranks fit the CPUs, poll for DefaultSpin, then park: a polling rank
//     takes no time from anybody. When they do not, a spinning rank would take time from the
//     very rank it waits for: poll with sched_yield for DefaultYield instead, then park.
//     SpinWait, when set (GOMPI_SPIN_WAIT), replaces both stages' lengths; Wait (GOMPI_WAIT)
//     forces the kind: spin (DefaultSpin, even on a shared core), yield (DefaultYield) or park.
func Decide(f Facts) Plan {
	s := max(f.LocalSize, 1)
	var p Plan
	if f.Bind && s > 1 && s <= len(f.Allowed) && f.LocalRank >= 0 && f.LocalRank < s {
		k := len(f.Allowed) / s
		p.Bind = f.Allowed[f.LocalRank*k : (f.LocalRank+1)*k]
	}
	p.procs = max(f.CPUs, 1)
	if !f.UserProcs && s > 1 {
		p.Procs = max(1, f.CPUs/s)
		p.procs = p.Procs
	}
	p.Fits = s <= f.CPUs
	if p.Fits {
		p.Wait.Spin, p.Spin = DefaultSpin, DefaultSpin
	} else {
		p.Wait.Yield = DefaultYield
	}
	switch f.Wait {
	case "spin":
		p.Wait = Wait{Spin: DefaultSpin}
	case "yield":
		p.Wait = Wait{Yield: DefaultYield}
	case "park":
		p.Wait, p.Spin = Wait{}, 0
	}
	if f.SpinWait != nil {
		d := *f.SpinWait
		p.Spin = d
		if p.Wait.Spin > 0 || p.Wait.Yield == 0 {
			p.Wait.Spin = d
		} else {
			p.Wait.Yield = d
		}
	}
	return p
}

// TCPSpin is how long each TCP reader of a rank with peers TCP connections may poll before
// it parks: p.Spin when every reader can hold a P of its own, else 0. While a reader polls
// (even yielding) the runtime does not poll the network, so a message for a parked reader of
// the same rank would wait until the spin ends; and on a shared core a polling reader takes
// time from the very rank it waits for.
func (p Plan) TCPSpin(peers int) time.Duration {
	if !p.Fits || peers < 1 || peers > p.procs {
		return 0
	}
	return p.Spin
}

// HostFacts reads the facts of this process and host that Decide needs, for a rank started
// with env.
func HostFacts(env *bootstrap.Env) Facts {
	f := Facts{LocalRank: env.LocalRank, LocalSize: env.LocalSize, Bind: env.Bind != "none", SpinWait: env.SpinWait, Wait: env.Wait}
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		for cpu := 0; cpu < 1<<16 && len(f.Allowed) < set.Count(); cpu++ {
			if set.IsSet(cpu) {
				f.Allowed = append(f.Allowed, cpu)
			}
		}
	}
	f.UserProcs = os.Getenv("GOMAXPROCS") != ""
	f.CPUs = runtime.GOMAXPROCS(0)
	if f.UserProcs {
		f.CPUs = max(len(f.Allowed), 1)
	}
	return f
}

// Apply binds the process and sets GOMAXPROCS as p says. A binding the system refuses is
// skipped: it is an optimisation.
func (p Plan) Apply() {
	if p.Bind != nil {
		bindProcess(p.Bind)
	}
	if p.Procs > 0 {
		runtime.GOMAXPROCS(p.Procs)
	}
}

// String describes the plan as gompirun --verbose reports it.
func (p Plan) String() string {
	cpus := "unbound"
	if p.Bind != nil {
		s := make([]string, len(p.Bind))
		for i, c := range p.Bind {
			s[i] = strconv.Itoa(c)
		}
		cpus = "cpus " + strings.Join(s, ",")
	}
	return fmt.Sprintf("%s, GOMAXPROCS %d, wait: %v", cpus, runtime.GOMAXPROCS(0), p.Wait)
}

// bindProcess sets the affinity of every thread of the process to cpus. sched_setaffinity
// binds one thread, and a new thread inherits its creator's mask, so the threads are listed
// until a pass finds none it has not bound. Errors are ignored: binding is an optimisation.
func bindProcess(cpus []int) {
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	done := map[int]bool{}
	for range 5 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return
		}
		fresh := false
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || done[tid] {
				continue
			}
			done[tid], fresh = true, true
			_ = unix.SchedSetaffinity(tid, &set)
		}
		if !fresh {
			return
		}
	}
}
