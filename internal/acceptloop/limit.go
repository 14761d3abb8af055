package acceptloop

import (
	"fmt"
	"sync"
	"time"
)

// MaxHandshakes is how many connections a listener of gompi's (a rank's port, the bootstrap
// service) lets be in their handshake at once. Its accept loop takes the next connection only
// when one of them is done (each has a deadline), so a flood waits in the kernel's accept
// backlog, where it costs this process no descriptor and no goroutine, and beyond it is
// refused by the kernel.
const MaxHandshakes = 64

// Gate bounds the connections in their handshake at once: the accept loop Enters before it
// accepts, and the handshake's goroutine Leaves when the handshake is over, however it ended.
type Gate chan struct{}

// NewGate returns a gate for n connections at once.
func NewGate(n int) Gate { return make(Gate, n) }

// Enter waits until fewer than the gate's n connections are in, and takes a place; false when
// stop closed first (nil: never).
func (g Gate) Enter(stop <-chan struct{}) bool {
	select {
	case g <- struct{}{}:
		return true
	case <-stop:
		return false
	}
}

// Leave gives a place back.
func (g Gate) Leave() { <-g }

// Defaults of Refusals.
const (
	RefusalBurst    = 10               // lines per interval before the rest are counted
	RefusalInterval = 10 * time.Second // the interval
)

// Refusals logs refused connections without letting a flood of them fill the log: a line
// each for the first Burst refusals of an Interval, then, at the end of the interval, one
// line for the rest: "refused 3012 more connections in the last 10s". Its zero value (with
// Logf set) takes the defaults above. Safe for concurrent use.
type Refusals struct {
	Logf     func(format string, args ...any) // where lines go; nil: nowhere
	Burst    int
	Interval time.Duration

	mu     sync.Mutex
	start  time.Time   // beginning of the current interval
	lines  int         // refusals logged in it
	more   int         // refusals counted, not logged, since the last summary
	timer  *time.Timer // writes the summary at the interval's end, while more > 0
	closed bool
}

// Refused logs (or counts) one refused connection.
func (r *Refusals) Refused(format string, args ...any) {
	r.mu.Lock()
	if r.closed || r.Logf == nil {
		r.mu.Unlock()
		return
	}
	burst, every := r.limits()
	now := time.Now()
	if r.start.IsZero() || now.Sub(r.start) >= every {
		r.start, r.lines = now, 0
	}
	if r.lines < burst {
		r.lines++
		r.mu.Unlock()
		r.Logf(format, args...)
		return
	}
	r.more++
	if r.timer == nil {
		r.timer = time.AfterFunc(r.start.Add(every).Sub(now), r.summary)
	}
	r.mu.Unlock()
}

// limits returns Burst and Interval, or their defaults. Caller holds r.mu.
func (r *Refusals) limits() (int, time.Duration) {
	burst, every := r.Burst, r.Interval
	if burst <= 0 {
		burst = RefusalBurst
	}
	if every <= 0 {
		every = RefusalInterval
	}
	return burst, every
}

// summary writes the line for the refusals counted and not logged.
func (r *Refusals) summary() {
	r.mu.Lock()
	more := r.more
	r.more, r.timer = 0, nil
	_, every := r.limits()
	logf := r.Logf
	closed := r.closed
	r.mu.Unlock()
	if more > 0 && !closed {
		logf("%s", moreLine(more, every))
	}
}

// Close writes the line for the refusals counted and not logged yet, if any, and stops: later
// refusals are not logged (the listener is closed; a handshake still under way may end after).
func (r *Refusals) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	more, since := r.more, time.Since(r.start).Round(time.Millisecond)
	r.more = 0
	logf := r.Logf
	r.mu.Unlock()
	if more > 0 && logf != nil {
		logf("%s", moreLine(more, since))
	}
}

func moreLine(n int, d time.Duration) string {
	noun := "connections"
	if n == 1 {
		noun = "connection"
	}
	return fmt.Sprintf("refused %d more %s in the last %v", n, noun, d)
}
