package comm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/backend"
	"github.com/gompi/gompi/internal/trace"
)

// Tracing (GOMPI_TRACE=PATH, which gompirun --trace sets): Init attaches a recorder to the
// world's engine after estimating this rank's clock offset to rank 0, and Finalize estimates it
// again, finalizes, and writes the rank's part to PATH.rank-N.part (internal/trace), which
// gompirun merges into PATH. Programs started otherwise leave the parts for
// `gompirun trace-merge PATH`. On OpenMPI (-tags mpi) nothing is recorded: the variable is
// reported and ignored.

// clockRounds is the number of ping-pongs with rank 0 per clock estimate; clockTimeout bounds
// each estimate (a rank that does not trace never answers).
const (
	clockRounds  = 8
	clockTimeout = 30 * time.Second
)

// tracedWorld is a world that can record a trace: gompi's engine.
type tracedWorld interface {
	Trace(rec *trace.Recorder)
	SyncClock(ctx context.Context, rec *trace.Recorder, rounds int) (trace.Clock, error)
}

// tracing is the trace of this process's world.
type tracing struct {
	path            string
	w               tracedWorld
	rec             *trace.Recorder
	job, host, boot string
}

// startTrace starts recording on w when GOMPI_TRACE is set; nil when it is not, or when w
// cannot record (said on standard error).
func startTrace(w backend.World) *tracing {
	path := os.Getenv(trace.EnvVar)
	if path == "" {
		return nil
	}
	tw, ok := w.(tracedWorld)
	if !ok {
		fmt.Fprintf(os.Stderr, "gompi: rank %d: %s=%s is ignored: this backend does not record traces\n", w.Rank(), trace.EnvVar, path)
		return nil
	}
	t := &tracing{path: path, w: tw, job: os.Getenv(bootstrap.EnvJobID)}
	t.host, _ = os.Hostname()
	if boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		t.boot = strings.TrimSpace(string(boot))
	}
	t.rec = trace.NewRecorder(w.Rank(), w.Size(), 0)
	t.clock()
	t.rec.Add(&trace.Event{Op: trace.OpInit, End: t.rec.Now(), Dest: -1, Src: -1, Tag: -1, RTag: -1})
	tw.Trace(t.rec)
	return t
}

// clock adds one estimate of the offset to rank 0; a failed one is said and left out.
func (t *tracing) clock() {
	ctx, cancel := context.WithTimeout(context.Background(), clockTimeout)
	defer cancel()
	c, err := t.w.SyncClock(ctx, t.rec, clockRounds)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gompi: rank %d: trace: no clock estimate (does every rank trace?): %v\n", t.rec.Rank(), err)
		return
	}
	t.rec.AddClock(c)
}

// finish estimates the clock again and stops recording; the part is written by write, after
// the world is finalized.
func (t *tracing) finish() *trace.Part {
	start := t.rec.Now()
	t.clock()
	t.rec.Add(&trace.Event{Op: trace.OpFinalize, Start: start, End: t.rec.Now(), Dest: -1, Src: -1, Tag: -1, RTag: -1})
	return t.rec.Part(t.job, t.host, t.boot)
}

// write writes p where gompirun or trace-merge finds it.
func (t *tracing) write(p *trace.Part) error {
	if err := trace.WritePart(t.path, p); err != nil {
		return fmt.Errorf("comm: rank %d: %w", p.Rank, err)
	}
	return nil
}

// finalizeTraced is Finalize of a world that records a trace.
func finalizeTraced(w backend.World, t *tracing) error {
	p := t.finish()
	return errors.Join(w.Finalize(), t.write(p))
}
