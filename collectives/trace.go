package collectives

import (
	"reflect"
	"runtime"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/gompi/gompi/internal/commlink"
	"github.com/gompi/gompi/internal/trace"
)

// Tracing a collective call (see internal/trace): when the engine under c records a trace, a
// run keeps the call's start, the bytes its messages carry and the algorithm that runs, and
// adds one trace.Event for the call when it is freed. Its messages are recorded by the engine,
// inside the call's slice on the timeline. Off, a call costs one atomic load (trace.Active) in
// newRun and one nil check per message.
//
// The algorithm is found on the call stack at the run's first message: the outermost function
// of this package between the entry point and the message that is named as STYLE.md names
// algorithms, <collective><Algorithm> (allreduceRing, bcastScatterAllgather,
// reduceScatterReduceScatterv; hier<Collective> for the node-aware phases), gives its name
// ("ring", "scatter-allgather", "node-aware"). The entry files choose the algorithm and pass no
// name to the run, so this costs no change to them; TestTraceAlgorithms checks every forced
// algorithm and every collective against Algorithm. A call that sends nothing (one rank) has no
// algorithm in its record.

// runTrace is a run's record while tracing.
type runTrace struct {
	rec         *trace.Recorder
	start       int64
	comm        uint32
	sent, recvd int64
	alg         uint16 // trace.Intern of the algorithm's name; 0: unknown
	looked      bool   // the stack has been looked at
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

// traceStep counts the bytes of one exchange and, at the first, finds the algorithm.
func (r *run) traceStep(sent, recvd int) {
	t := &r.trace
	t.sent += int64(sent)
	t.recvd += int64(recvd)
	if !t.looked {
		t.looked = true
		t.alg = algorithmOnStack()
	}
}

// traceEnd adds the call's event.
func (r *run) traceEnd() {
	t := &r.trace
	t.rec.Add(&trace.Event{
		Op: trace.OpCollective, Start: t.start, End: t.rec.Now(), Bytes: t.sent, RBytes: t.recvd,
		Dest: -1, Src: -1, Tag: -1, RTag: -1, Comm: t.comm,
		Name: trace.Intern(r.name), Alg: t.alg, Failed: r.err != nil,
	})
}

// stackDepth is how many callers of a run's message method algorithmOnStack looks at: enough
// to reach the outermost algorithm through the node-aware phases (hierAllreduce, its closure,
// run.within, allreduceRecursiveDoubling) and the algorithms' helpers. Each frame costs;
// runtime.Callers itself costs most (about 0.5 µs, then 0.05 µs a frame, here).
const stackDepth = 8

// stacks caches the algorithm of each stack of stackDepth return addresses seen so far: a
// program's collectives have few.
var stacks = struct {
	sync.RWMutex
	alg map[[stackDepth]uintptr]uint16
}{alg: map[[stackDepth]uintptr]uint16{}}

// algorithmOnStack returns the interned name of the outermost algorithm function among the
// callers of traceStep's caller, stopping at the first frame outside this package; 0 if there
// is none.
func algorithmOnStack() uint16 {
	var pcs [stackDepth]uintptr
	runtime.Callers(3, pcs[:]) // from traceStep's caller's caller
	stacks.RLock()
	alg, ok := stacks.alg[pcs]
	stacks.RUnlock()
	if ok {
		return alg
	}
	for _, pc := range pcs {
		if pc == 0 {
			break
		}
		f := framesAt(pc)
		if f.alg != 0 {
			alg = f.alg
		}
		if f.outside {
			break
		}
	}
	stacks.Lock()
	stacks.alg[pcs] = alg
	stacks.Unlock()
	return alg
}

// pcFrames is what algorithmOnStack needs to know of one return address.
type pcFrames struct {
	alg     uint16 // the outermost algorithm among the (inlined) functions there
	outside bool   // the outermost function there is not in this package
}

// pcCache maps return addresses to their pcFrames.
var pcCache sync.Map

func framesAt(pc uintptr) pcFrames {
	if f, ok := pcCache.Load(pc); ok {
		return f.(pcFrames)
	}
	var f pcFrames
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		fr, more := frames.Next()
		name, in := strings.CutPrefix(fr.Function, pkgPrefix())
		f.outside = !in
		if in {
			if i := strings.IndexByte(name, '['); i >= 0 {
				name = name[:i] // generic functions: collectives.allreduceRing[...]
			}
			if a := algorithmOf(name); a != algAuto {
				f.alg = trace.Intern(a.String())
			}
		}
		if !more {
			break
		}
	}
	pcCache.Store(pc, f)
	return f
}

// pkgPrefix is the prefix of this package's function names: "github.com/gompi/gompi/collectives.".
var pkgPrefix = sync.OnceValue(func() string { return reflect.TypeFor[run]().PkgPath() + "." })

// algorithmOf returns the algorithm that the function of this package named fn implements, by
// its name: <collective><Algorithm> (allreduceRecursiveDoubling), or hier<Collective> for the
// node-aware ones; algAuto when fn is none.
func algorithmOf(fn string) algorithm {
	for k := kindBarrier; int(k) < len(kindNames); k++ {
		if rest, ok := strings.CutPrefix(fn, "hier"); ok && rest == k.String() {
			return algNodeAware
		}
		rest, ok := strings.CutPrefix(fn, lowerFirst(k.String()))
		if !ok || rest == "" {
			continue
		}
		for a := algDissemination; int(a) < len(algNames); a++ {
			if a != algNodeAware && rest == camel(a.String()) {
				return a
			}
		}
	}
	return algAuto
}

// camel turns "recursive-doubling" into "RecursiveDoubling".
func camel(s string) string {
	var b strings.Builder
	for _, w := range strings.Split(s, "-") {
		r, n := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteString(w[n:])
	}
	return b.String()
}

// lowerFirst turns "ReduceScatter" into "reduceScatter".
func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
