package collectives

import (
	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/trace"
)

// Tracing a collective call (see internal/trace): when the engine under c records a trace, a
// run keeps the call's start, the bytes its messages carry and the algorithm that runs, and
// adds one trace.Event for the call when it is freed. Its messages are recorded by the engine,
// inside the call's slice on the timeline. Off, a call costs one atomic load (trace.Active) in
// newRun and one nil check per message.
//
// The algorithm is the one the entry point chose (run.alg, set just before it runs); a call
// that fails before choosing one has none in its record.

// runTrace is a run's record while tracing.
type runTrace struct {
	rec         *trace.Recorder
	start       int64
	comm        uint32
	sent, recvd int64
}

// tracer is the engine's communicator, which can say whether it records a trace.
type tracer interface {
	Tracing() (*trace.Recorder, uint32)
}

// traceBegin starts the run's record if the engine under c records a trace.
func (r *run) traceBegin() {
	b, ok := commlink.Backend(r.c).(tracer)
	if !ok {
		return
	}
	rec, ctx := b.Tracing()
	if rec == nil {
		return
	}
	r.trace = runTrace{rec: rec, comm: ctx, start: rec.Now()}
}

// traceStep counts the bytes of one exchange.
func (r *run) traceStep(sent, recvd int) {
	r.trace.sent += int64(sent)
	r.trace.recvd += int64(recvd)
}

// traceEnd adds the call's event.
func (r *run) traceEnd() {
	t := &r.trace
	var alg uint16
	if r.alg != algAuto {
		alg = trace.Intern(r.alg.String())
	}
	t.rec.Add(&trace.Event{
		Op: trace.OpCollective, Start: t.start, End: t.rec.Now(), Bytes: t.sent, RBytes: t.recvd,
		Dest: -1, Src: -1, Tag: -1, RTag: -1, Comm: t.comm,
		Name: trace.Intern(r.name), Alg: alg, Failed: r.err != nil,
	})
}
