package farm

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the farm itself; test for them with errors.Is. A task's own error comes back as a
// *TaskError, a worker's death as a *DeathError.
var (
	// ErrNotRegistered: the task was not registered in the registry given to Run (on the
	// coordinator), or not on the worker that was sent it.
	ErrNotRegistered = errors.New("task not registered")
	// ErrNoWorkers: tasks remain but no rank is left to run them (every worker died and the
	// coordinator does not work).
	ErrNoWorkers = errors.New("no workers left")
	// ErrClosed: Map or MapUnordered was called after Run's body had returned.
	ErrClosed = errors.New("farm closed")
	// ErrSetup: the ranks could not agree to start the farm (bad options, or registries that
	// differ between ranks); every rank's Run returns an error wrapping it.
	ErrSetup = errors.New("farm setup failed")
)

// TaskError is the error of one task: the task function returned an error or panicked.
//
// A task that ran on another rank comes back as its error's text (Err is then a plain error
// with that text, and errors.Is cannot see through it); a task that ran on the coordinator
// keeps its original error.
type TaskError struct {
	Task     string // the task's registered name
	Index    int    // the index of its argument in the slice given to Map
	Rank     int    // the rank that ran it
	Panicked bool   // the task panicked; Err holds the panic value as text
	Stack    string // the goroutine's stack at the panic, when Panicked
	Err      error
}

// Error reads "farm: task isprime[7] on rank 2: cause" or "... on rank 2 panicked: value".
func (e *TaskError) Error() string {
	how := ""
	if e.Panicked {
		how = " panicked"
	}
	return fmt.Sprintf("farm: task %s[%d] on rank %d%s: %v", e.Task, e.Index, e.Rank, how, e.Err)
}

// Unwrap returns the task's error.
func (e *TaskError) Unwrap() error { return e.Err }

// DeathError reports a worker rank that died (or left the farm) with tasks outstanding, or
// with none (Task empty) when it died between maps.
//
// A worker runs the batches sent to it one after the other, so the first batch outstanding is
// the one it was running: Running holds that batch's tasks (one task, unless tiny tasks were
// batched) and Queued the tasks sent to it after them.
type DeathError struct {
	Rank    int    // the worker that died
	Task    string // the name of the task being mapped, or "" if it had no tasks
	Running []int  // indices of the tasks of the batch it was running
	Queued  []int  // indices of the tasks waiting on it
	Retried bool   // its tasks were handed to other workers (Options.Retries)
	Err     error  // how the coordinator saw it go: wraps comm.ErrPeerFailed when it died
}

// Error reads "farm: rank 2 died running task isprime[7] (tasks 8–9 queued there): cause".
func (e *DeathError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "farm: rank %d died", e.Rank)
	switch {
	case e.Task == "":
		b.WriteString(" with no task")
	case len(e.Running) == 1:
		fmt.Fprintf(&b, " running task %s[%d]", e.Task, e.Running[0])
	default:
		fmt.Fprintf(&b, " running one of tasks %s[%s]", e.Task, spans(e.Running))
	}
	if len(e.Queued) > 0 {
		fmt.Fprintf(&b, " (tasks %s queued there)", spans(e.Queued))
	}
	if e.Retried {
		b.WriteString("; they run again on other ranks")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns how the worker went (a comm error wrapping comm.ErrPeerFailed).
func (e *DeathError) Unwrap() error { return e.Err }

// spans writes sorted indices as ranges: "3, 7–9, 12".
func spans(idx []int) string {
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if j == i {
			fmt.Fprint(&b, idx[i])
		} else {
			fmt.Fprintf(&b, "%d–%d", idx[i], idx[j])
		}
		i = j + 1
	}
	return b.String()
}
