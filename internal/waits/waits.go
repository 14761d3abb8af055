// Package waits keeps, for the hang report, what this rank's goroutines are blocked in: the
// engine registers a wait when a goroutine is about to park on a message (not while it polls),
// with the collective call it is part of (a Label the collectives set on the communicator's
// collective context for the length of a call). gompirun asks a rank for
// its report (comm's reporter, docs/LAUNCHER.md "A hang explains itself"), which takes a
// snapshot of both. Off (the default, and under other launchers), registering costs one atomic
// load.
package waits

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// EnvDir is the variable in which gompirun gives each local rank a directory for its hang
// reports: a rank that sees it enables registering, writes DIR/ready.RANK once it can answer,
// and answers SIGUSR2 by writing DIR/report.RANK.json (package comm).
const EnvDir = "GOMPI_HANG_DIR"

var on atomic.Bool

// Enable turns registering on, for the rest of the process.
func Enable() { on.Store(true) }

// Enabled reports whether registering is on.
func Enabled() bool { return on.Load() }

// Wait is one goroutine blocked on a message.
type Wait struct {
	Op    string `json:"op"`    // the call: Recv, Send, Sendrecv, Probe, Irecv, ...
	Send  bool   `json:"send"`  // Peer is the destination (else the source)
	Peer  int    `json:"peer"`  // world rank waited for; -1 for any source
	Tag   int    `json:"tag"`   // tag; -1 for any tag
	Bytes int    `json:"bytes"` // the message's buffer, in bytes
	Comm  string `json:"comm"`  // the communicator: "world", "world (collectives)", ...
	// Internal: the wait is a collective's own message (its tags mean nothing to the program)
	Internal bool `json:"internal"`
	// From is, for a Sendrecv, the world rank its receive waits for (-1: any); else -2
	From  int       `json:"from"`
	Since time.Time `json:"since"`
	// Collective is the collective call the wait is part of ("" if none), since CollSince
	Collective string    `json:"collective,omitempty"`
	CollSince  time.Time `json:"coll_since"`
}

// Label names the collective call a communicator's collective context is in; the collectives
// set it on the context for the length of a call, and a wait on that context carries it.
type Label struct {
	Name string // Barrier, Allreduce, ...
	// Since is when the call first parked on a message (set by the engine then, by the call's
	// own goroutine): a call that never parks costs no clock reading
	Since time.Time
}

// A Waiter is what a goroutine is parked on (the engine's request). It describes itself only
// when a report is taken, under the registry's lock: registering costs no allocation, and a
// Waiter must not change what it describes while it is registered.
type Waiter interface {
	Wait() Wait
}

var (
	mu      sync.Mutex
	waiters = map[Waiter]struct{}{}
	phase   string // what the rank does outside messages ("joining the job"), or ""
)

// SetPhase says what the rank is doing that is not a wait for a message (comm's Init: joining
// the job), until SetPhase(""); reports carry it.
func SetPhase(p string) {
	mu.Lock()
	phase = p
	mu.Unlock()
}

// Block records that a goroutine is parked on w until Unblock(w).
func Block(w Waiter) {
	mu.Lock()
	waiters[w] = struct{}{}
	mu.Unlock()
}

// Unblock removes w.
func Unblock(w Waiter) {
	mu.Lock()
	delete(waiters, w)
	mu.Unlock()
}

// Report is a rank's answer to gompirun's question: what it waits for, now.
type Report struct {
	Rank  int       `json:"rank"`
	Time  time.Time `json:"time"`
	Waits []Wait    `json:"waits"`
	// Phase is what the rank does outside messages, e.g. "joining the job (Init)", or ""
	Phase string `json:"phase,omitempty"`
	// Sites are the program's calls the parked goroutines are in ("main.main.func1 at
	// main.go:19"), one per goroutine parked on a message, from the goroutines' stacks
	Sites []string `json:"sites,omitempty"`
}

// Snapshot returns what is registered now, oldest first.
func Snapshot(rank int) Report {
	mu.Lock()
	r := Report{Rank: rank, Time: time.Now(), Phase: phase}
	for w := range waiters {
		r.Waits = append(r.Waits, w.Wait())
	}
	mu.Unlock()
	sort.Slice(r.Waits, func(i, j int) bool { return r.Waits[i].Since.Before(r.Waits[j].Since) })
	return r
}
