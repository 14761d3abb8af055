package farm

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Progress says how a map shows its progress on Options.Output.
type Progress int

const (
	// ProgressAuto draws a bar when Output is a terminal, and prints plain "name: done/total"
	// lines (at every tenth of the way and at the end) when it is not.
	ProgressAuto Progress = iota
	// ProgressBar always draws a bar (github.com/schollz/progressbar/v3).
	ProgressBar
	// ProgressLines always prints plain lines.
	ProgressLines
	// ProgressOff shows nothing.
	ProgressOff
)

// DefaultInFlight is Options.InFlight's default: one batch runs on a worker while the next
// travels, so a worker never waits for the coordinator between batches.
const DefaultInFlight = 2

// batchTarget is how long an automatic batch should take to run: long against the farm's
// cost per batch (tens of microseconds, see the package comment), short against a map.
const batchTarget = 10 * time.Millisecond

// Options configure a farm. The zero value is a farm whose coordinator is rank 0 and does not
// run tasks itself, with automatic batching, two batches in flight per worker, no retries, and
// progress on standard error.
type Options struct {
	// Root is the coordinator's rank. Every rank must give the same one.
	Root int
	// InFlight is how many batches a worker may hold at once (the one running and those
	// waiting behind it). Default DefaultInFlight.
	InFlight int
	// Batch is the number of tasks sent to a worker at once. Zero means automatic: single
	// tasks at first, then as many as take about 10 ms by the time the tasks took so far, but
	// never more than a quarter of the remaining tasks' share per worker, so the last tasks
	// still spread over every worker.
	Batch int
	// RootWorks has the coordinator run tasks too, between handing them out. A farm of one
	// rank always does.
	RootWorks bool
	// Retries is how many times a task is run again on another rank when the worker running
	// it (or holding it) dies; the death is then reported on Output and by Farm.Deaths instead
	// of failing the map. A task's own error or panic is never retried. Zero: a death fails
	// the map with a *DeathError.
	Retries int
	// Progress selects the progress display of each map. Default ProgressAuto.
	Progress Progress
	// Output receives progress and the farm's notices (a retried death). Default os.Stderr.
	Output io.Writer
}

// withDefaults checks o for a communicator of size ranks and fills in the defaults.
func (o Options) withDefaults(size int) (Options, error) {
	switch {
	case o.Root < 0 || o.Root >= size:
		return o, fmt.Errorf("farm: Options.Root %d is not a rank of the %d-rank communicator", o.Root, size)
	case o.InFlight < 0:
		return o, fmt.Errorf("farm: Options.InFlight %d is negative", o.InFlight)
	case o.Batch < 0:
		return o, fmt.Errorf("farm: Options.Batch %d is negative", o.Batch)
	case o.Retries < 0:
		return o, fmt.Errorf("farm: Options.Retries %d is negative", o.Retries)
	case o.Progress < ProgressAuto || o.Progress > ProgressOff:
		return o, fmt.Errorf("farm: Options.Progress %d is not one of ProgressAuto, ProgressBar, ProgressLines, ProgressOff", o.Progress)
	}
	if o.InFlight == 0 {
		o.InFlight = DefaultInFlight
	}
	if o.Output == nil {
		o.Output = os.Stderr
	}
	if size == 1 {
		o.RootWorks = true
	}
	return o, nil
}
