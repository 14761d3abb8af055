package tcp

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gompi/gompi/bootstrap"
)

// DefaultSpinWait is the SpinWait of a rank that has a core to itself: long enough to cover a
// round trip of a small message between two such ranks (about 8 µs here), short enough that
// an idle rank gives its core back at once. docs/BENCHMARKS.md has the measurement.
const DefaultSpinWait = 50 * time.Microsecond

// EnvSpinWait overrides SpinWait for ranks made by NewFromEnv: a Go duration ("0" turns
// spinning off, "200us" lengthens it). Pass it with gompirun -x.
const EnvSpinWait = "GOMPI_SPIN_WAIT"

// hostPlan is a rank's share of its host.
type hostPlan struct {
	bind  []int         // the CPUs to bind the process to; nil: leave its affinity alone
	procs int           // the GOMAXPROCS to set; 0: leave it
	spin  time.Duration // the readers' SpinWait
}

// hostFacts is what planShare decides from.
type hostFacts struct {
	allowed   []int // CPUs in the process's affinity mask (nil if unknown)
	cpus      int   // CPUs the process may use: Go's default GOMAXPROCS (mask and cgroup quota)
	userProcs bool  // GOMAXPROCS is set in the environment
	localRank int   // this rank among the ranks on its host
	localSize int   // ranks on the host
	peers     int   // connections this rank reads (size-1)
	bind      bool  // binding wanted (gompirun --bind-to core, the default)
}

// planShare decides a rank's share of its host, the way mpirun places ranks by default: when
// the host's ranks fit its CPUs, each rank gets a block of them of its own.
//
//   - Binding: local rank L of S gets allowed CPUs [L·k, (L+1)·k) with k = len(allowed)/S,
//     when S <= len(allowed). Unbound, the kernel moves the ranks' threads about, and two
//     ranks spinning on one core (below) take turns by whole time slices.
//   - GOMAXPROCS: unless the user set it, cpus/S (at least 1). Go's default lets every rank
//     run threads on every core, and ranks on one host then wake each other's threads across
//     cores on every message; one P per core of the rank's share made Allreduces faster
//     here, also with more ranks than cores (docs/BENCHMARKS.md).
//   - SpinWait: DefaultSpinWait when the ranks fit the CPUs (S <= cpus) and each reader can
//     hold a P of its own (peers <= GOMAXPROCS); otherwise 0. On a shared core a spinning
//     rank takes time from the very rank it waits for; and while a reader spins (even
//     yielding), the runtime does not poll the network, so a message for a parked reader
//     of the same rank waits until the spin ends.
func planShare(f hostFacts) hostPlan {
	s := max(f.localSize, 1)
	var p hostPlan
	if f.bind && s > 1 && s <= len(f.allowed) && f.localRank >= 0 && f.localRank < s {
		k := len(f.allowed) / s
		p.bind = f.allowed[f.localRank*k : (f.localRank+1)*k]
	}
	procs := f.cpus
	if !f.userProcs && s > 1 {
		procs = max(1, f.cpus/s)
		p.procs = procs
	}
	if s <= f.cpus && f.peers >= 1 && f.peers <= procs {
		p.spin = DefaultSpinWait
	}
	return p
}

// shareHost applies planShare to this process and to cfg, from the environment of a rank
// started by gompirun (GOMPI_LOCAL_RANK, GOMPI_LOCAL_SIZE, GOMPI_BIND, GOMAXPROCS and
// EnvSpinWait, which overrides the spin). A binding the system refuses is skipped.
func shareHost(cfg *Config) error {
	f := hostFacts{localRank: -1, localSize: 1, peers: cfg.Size - 1, bind: true}
	for _, v := range []struct {
		name string
		dst  *int
	}{{bootstrap.EnvLocalSize, &f.localSize}, {bootstrap.EnvLocalRank, &f.localRank}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return fmt.Errorf("%s=%q is not a rank count", v.name, s)
			}
			*v.dst = n
		}
	}
	switch b := os.Getenv(bootstrap.EnvBind); b {
	case "", "core":
	case "none":
		f.bind = false
	default:
		return fmt.Errorf("%s=%q: want core or none", bootstrap.EnvBind, b)
	}
	var set unix.CPUSet
	if unix.SchedGetaffinity(0, &set) == nil {
		for cpu := 0; cpu < 1<<16 && len(f.allowed) < set.Count(); cpu++ {
			if set.IsSet(cpu) {
				f.allowed = append(f.allowed, cpu)
			}
		}
	}
	f.userProcs = os.Getenv("GOMAXPROCS") != ""
	f.cpus = runtime.GOMAXPROCS(0)
	if f.userProcs {
		f.cpus = max(len(f.allowed), 1)
	}
	p := planShare(f)
	if p.bind != nil {
		bindProcess(p.bind)
	}
	if p.procs > 0 {
		runtime.GOMAXPROCS(p.procs)
	}
	cfg.SpinWait = p.spin
	if s := os.Getenv(EnvSpinWait); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return fmt.Errorf("%s=%q is not a duration such as 50us or 0", EnvSpinWait, s)
		}
		cfg.SpinWait = d
	}
	return nil
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
