// Package trace records what every rank of a job does in gompi, one fixed-size record per
// operation, and turns the records of all ranks into one timeline: a Chrome / Perfetto
// trace-event file (WriteChrome), which internal/timeline also draws as a picture.
//
// It sits beside the stack, below everything that records: the engine (internal/engine) records
// each point-to-point operation, package collectives each collective call, package comm starts
// and stops a Recorder from the environment (GOMPI_TRACE), and gompirun merges the ranks' files.
// It imports nothing of gompi.
//
// The way a trace is made:
//
//  1. At Init each rank makes a Recorder; its clock is the monotonic clock from that moment,
//     anchored to the wall clock (Part.Wall0). The engine estimates the rank's offset to rank 0's
//     wall clock by ping-pongs (Clock), once at Init and once at Finalize.
//  2. Operations append Events to the Recorder (Add): one mutex, one append, no allocation once
//     the slice has grown.
//  3. At Finalize each rank writes its Part to PATH.rank-N.part (WritePart).
//  4. Merge reads the parts of a job, puts every rank on rank 0's clock, pairs each message's
//     send with its receive (Flow), checks that no arrow points backwards in time, and spreads
//     operations that overlap (several goroutines of one rank) over lanes. WriteChrome writes
//     the result.
package trace

import (
	"sync"
	"sync/atomic"
	"time"
)

// Op is the kind of operation an Event records.
type Op uint8

// The operations. Point-to-point ones are recorded by the engine, Collective by package
// collectives.
const (
	OpSend       Op = iota + 1 // a blocking send (Send)
	OpRecv                     // a blocking receive (Recv, and RecvAlloc)
	OpSendrecv                 // a send and a receive driven together (Sendrecv)
	OpIsend                    // the start of a nonblocking send
	OpIrecv                    // the start of a nonblocking receive
	OpWait                     // Wait on a nonblocking request
	OpTest                     // a Test that found its request complete
	OpProbe                    // a blocking Probe
	OpCollective               // one collective call: Name and Alg say which
	OpInit                     // the end of comm.Init: the clock exchange with rank 0
	OpFinalize                 // the start of comm.Finalize: the clock exchange with rank 0
)

var opNames = [...]string{
	OpSend: "Send", OpRecv: "Recv", OpSendrecv: "Sendrecv", OpIsend: "Isend", OpIrecv: "Irecv",
	OpWait: "Wait", OpTest: "Test", OpProbe: "Probe", OpCollective: "Collective", OpInit: "Init",
	OpFinalize: "Finalize",
}

// String names the operation as the trace shows it.
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "Op?"
}

// Event is one operation on one rank. Every field has a fixed size (it is written to part
// files as it is, see WritePart). Times are nanoseconds on the recorder's clock (Recorder.Now).
// Ranks are world ranks. A message is known by its sender's world rank and its id: Out on the
// sending operation, (Src, In) on the receiving one.
type Event struct {
	Start, End         int64  // when the call began and returned
	WaitStart, WaitEnd int64  // the first moment it blocked, the end of the last block; 0, 0 if it never did
	Wait               int64  // the time it spent blocked, in all
	Bytes              int64  // bytes sent (collectives: sent by this rank in all its messages)
	RBytes             int64  // bytes received (collectives: likewise)
	Out                uint64 // id of the message it sent; 0: none (or the sender does not know it)
	In                 uint64 // id of the message it received (sent by Src); 0: none
	Dest               int32  // world rank it sent to; -1: none
	Src                int32  // world rank its message came from; -1: none
	Tag                int32  // tag it sent with; -1: none
	RTag               int32  // tag of the message it received; -1: none
	Comm               uint32 // the engine's context id of the communicator
	Name               uint16 // collectives: the call's name (Intern), e.g. "Allreduce"
	Alg                uint16 // collectives: the algorithm's name (Intern), 0 when unknown
	Op                 Op
	Failed             bool // the call returned an error
}

// Clock is one estimate of a rank's wall-clock offset to rank 0's, from ping-pongs: rank 0
// answers each ping with its wall-clock time, and the sample with the shortest round trip is
// kept (its error is at most RTT/2).
type Clock struct {
	At     int64 // when (this rank's recorder clock) the kept sample was taken: its midpoint
	Offset int64 // this rank's wall clock minus rank 0's, in ns
	RTT    int64 // the kept sample's round trip, in ns; 0 on rank 0
}

// DefaultMaxEvents bounds the events one Recorder keeps (about 100 MiB); later ones are counted
// in Part.Dropped, not kept.
const DefaultMaxEvents = 1 << 20

// chunkLen is the number of events in one of the arrays a Recorder keeps them in: adding an
// event never copies the ones before (a growing slice copied them again at every growth,
// which cost more than the rest of recording in long traces).
const chunkLen = 4096

// Recorder is one rank's record of its operations. All methods are safe for concurrent use.
type Recorder struct {
	rank, size int
	zero       time.Time // Now's zero: a monotonic reading and the wall clock at that moment
	max        int

	mu      sync.Mutex // guards everything below
	chunks  []*[chunkLen]Event
	n       int // events kept, in chunks
	dropped int64
	clocks  []Clock
	stopped bool
	end     int64 // Now at Stop
}

// active counts the recorders that record, in this process (see Active).
var active atomic.Int32

// Active reports whether any Recorder in this process is recording: packages whose hook would
// otherwise look up a recorder on every call (collectives) check this first, so that a process
// that does not trace pays one atomic load.
func Active() bool { return active.Load() > 0 }

// NewRecorder returns a recording Recorder for world rank rank of size, keeping at most max
// events (0: DefaultMaxEvents). Its clock starts now.
func NewRecorder(rank, size, max int) *Recorder {
	if max <= 0 {
		max = DefaultMaxEvents
	}
	active.Add(1)
	return &Recorder{rank: rank, size: size, zero: time.Now(), max: max, chunks: []*[chunkLen]Event{new([chunkLen]Event)}}
}

// Rank is the world rank the recorder records.
func (r *Recorder) Rank() int { return r.rank }

// Now is the time on the recorder's clock: nanoseconds since NewRecorder, monotonic.
func (r *Recorder) Now() int64 { return int64(time.Since(r.zero)) }

// Wall returns the wall-clock time (Unix nanoseconds) of the recorder-clock time t.
func (r *Recorder) Wall(t int64) int64 { return r.zero.UnixNano() + t }

// Add records e (copied) unless the recorder has stopped or is full.
func (r *Recorder) Add(e *Event) {
	r.mu.Lock()
	switch {
	case r.stopped:
	case r.n < r.max:
		if r.n == len(r.chunks)*chunkLen {
			r.chunks = append(r.chunks, new([chunkLen]Event))
		}
		r.chunks[r.n/chunkLen][r.n%chunkLen] = *e
		r.n++
	default:
		r.dropped++
	}
	r.mu.Unlock()
}

// AddClock keeps one clock estimate (the engine makes one at Init and one at Finalize).
func (r *Recorder) AddClock(c Clock) {
	r.mu.Lock()
	r.clocks = append(r.clocks, c)
	r.mu.Unlock()
}

// Stop ends the recording: later events are not kept. It is safe to call more than once.
func (r *Recorder) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped {
		r.stopped = true
		r.end = r.Now()
		active.Add(-1)
	}
}

// Part returns what the recorder holds, as a part of a job's trace (stopping it first). job is
// the job's id (any string the ranks share; empty when unknown), host names the machine and
// boot its kernel (ranks whose boot ids match share one wall clock; empty when unknown).
func (r *Recorder) Part(job, host, boot string) *Part {
	r.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	events := make([]Event, 0, r.n)
	for _, c := range r.chunks {
		events = append(events, c[:min(r.n-len(events), chunkLen)]...)
	}
	return &Part{
		Version: PartVersion, Job: job, Rank: r.rank, Size: r.size, Host: host, Boot: boot,
		Wall0: r.zero.UnixNano(), End: r.end, Dropped: r.dropped,
		Clocks: append([]Clock(nil), r.clocks...), Names: Names(),
		Events: events,
	}
}

// The names of collectives and algorithms, interned process-wide so that Event holds a number.
var names = struct {
	sync.RWMutex
	ids  map[string]uint16
	list []string
}{ids: map[string]uint16{"": 0}, list: []string{""}}

// Intern returns the number of name in this process's table of names (0 for ""); Names returns
// the table. Past 65535 names every new one is 0.
func Intern(name string) uint16 {
	names.RLock()
	id, ok := names.ids[name]
	names.RUnlock()
	if ok {
		return id
	}
	names.Lock()
	defer names.Unlock()
	if id, ok := names.ids[name]; ok {
		return id
	}
	if len(names.list) > 1<<16-1 {
		return 0
	}
	id = uint16(len(names.list))
	names.ids[name] = id
	names.list = append(names.list, name)
	return id
}

// Names returns a copy of the table of names: Names()[Intern(s)] == s.
func Names() []string {
	names.RLock()
	defer names.RUnlock()
	return append([]string(nil), names.list...)
}
