// Package waits keeps, for the hang report, what this rank's goroutines are blocked in: the
// engine registers a wait when a goroutine is about to park on a message (not while it polls),
// the collectives register the collective call each goroutine is in. gompirun asks a rank for
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
}

// Collective is a collective call in progress.
type Collective struct {
	Name  string    `json:"name"` // Barrier, Allreduce, ...
	Comm  string    `json:"comm"`
	Size  int       `json:"size"` // the communicator's size
	Since time.Time `json:"since"`
}

var (
	mu    sync.Mutex
	waits = map[any]Wait{}
	colls = map[any]Collective{}
)

// Block records that the goroutine identified by key blocks in w until Unblock(key).
func Block(key any, w Wait) {
	mu.Lock()
	waits[key] = w
	mu.Unlock()
}

// Unblock removes key's wait.
func Unblock(key any) {
	mu.Lock()
	delete(waits, key)
	mu.Unlock()
}

// Enter records that key (a collective call's state) is in collective c until Leave(key).
func Enter(key any, c Collective) {
	mu.Lock()
	colls[key] = c
	mu.Unlock()
}

// Leave removes key's collective.
func Leave(key any) {
	mu.Lock()
	delete(colls, key)
	mu.Unlock()
}

// Report is a rank's answer to gompirun's question: what it waits for, now.
type Report struct {
	Rank        int          `json:"rank"`
	Time        time.Time    `json:"time"`
	Waits       []Wait       `json:"waits"`
	Collectives []Collective `json:"collectives"`
}

// Snapshot returns what is registered now, oldest first.
func Snapshot(rank int) Report {
	mu.Lock()
	r := Report{Rank: rank, Time: time.Now()}
	for _, w := range waits {
		r.Waits = append(r.Waits, w)
	}
	for _, c := range colls {
		r.Collectives = append(r.Collectives, c)
	}
	mu.Unlock()
	sort.Slice(r.Waits, func(i, j int) bool { return r.Waits[i].Since.Before(r.Waits[j].Since) })
	sort.Slice(r.Collectives, func(i, j int) bool { return r.Collectives[i].Since.Before(r.Collectives[j].Since) })
	return r
}
