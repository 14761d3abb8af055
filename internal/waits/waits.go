// Package waits keeps, for the hang report, what this rank's goroutines are blocked in: the
// engine registers a wait when a goroutine is about to park on a message (not while it polls),
// with the collective call it is part of (a Label the collectives set on the communicator's
// collective context for the length of a call). gompirun asks a rank for
// its report (comm's reporter, docs/LAUNCHER.md "A hang explains itself"), which takes a
// snapshot of both. Off (the default, and under other launchers), registering costs one atomic
// load.
package waits

import (
	"fmt"
	"sort"
	"strings"
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

// Text describes the report in one line, as the hang table shows it after "rank N": each wait
// (the collective call it is part of, the call, the communicator, for how long), or the phase,
// and the program's call sites.
func (r Report) Text() string {
	var parts []string
	for _, w := range r.Waits {
		if w.Collective != "" {
			parts = append(parts, fmt.Sprintf("in %s on %s, waiting for %s", w.Collective, strings.TrimSuffix(w.Comm, " (collectives)"), seconds(r.Time.Sub(w.CollSince))))
		}
		parts = append(parts, fmt.Sprintf("%s on %s for %s", w.Text(), w.Comm, seconds(r.Time.Sub(w.Since))))
	}
	switch {
	case len(r.Waits) == 0 && r.Phase != "":
		parts = append(parts, r.Phase)
	case len(r.Waits) == 0:
		parts = append(parts, "not waiting for a message (computing, or in a call that has not parked)")
	}
	if len(r.Sites) > 0 {
		parts[len(parts)-1] += "; called from " + strings.Join(r.Sites, ", ")
	}
	return strings.Join(parts, "; ")
}

// Text formats a wait as a call: "Recv(from rank 1, tag 99, 32 B)", "Send(to rank 2, tag 5,
// 1048576 B)", "Sendrecv(to rank 0, from rank 1)"; a collective's own messages without their
// tags, which mean nothing to the program.
func (w Wait) Text() string {
	rank := func(q int) string {
		if q < 0 {
			return "any rank"
		}
		return fmt.Sprintf("rank %d", q)
	}
	var args []string
	switch {
	case w.From != -2:
		args = append(args, "to "+rank(w.Peer), "from "+rank(w.From))
	case w.Send:
		args = append(args, "to "+rank(w.Peer))
	default:
		args = append(args, "from "+rank(w.Peer))
	}
	if !w.Internal {
		if w.Tag < 0 {
			args = append(args, "any tag")
		} else {
			args = append(args, fmt.Sprintf("tag %d", w.Tag))
		}
		args = append(args, fmt.Sprintf("%d B", w.Bytes))
	}
	return w.Op + "(" + strings.Join(args, ", ") + ")"
}

// seconds formats d as seconds with one decimal: "2.9 s".
func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
