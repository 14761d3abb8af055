package launcher

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"
)

// cause is why the launcher stops a job.
type cause int

const (
	causeNone      cause = iota
	causeFailure         // a rank failed
	causeTimeout         // Config.Timeout expired
	causeInterrupt       // a signal arrived, or ctx was cancelled
)

// failureSettle is how long the launcher waits, after it sees the first rank fail, for other
// ranks to fail before it names the culprit and stops the job. Ranks that notice a dead peer
// fail within milliseconds of it, and the launcher may see their exits before the dead one's.
const failureSettle = 200 * time.Millisecond

// drainWait bounds how long the launcher waits for the failed ranks' output to end before it
// names the failure (see decide).
const drainWait = 500 * time.Millisecond

// culprit picks the rank to name among ranks that failed within failureSettle of each other:
// the first one killed by a signal (a crash or a kill is a cause; a rank reacting to a dead
// peer exits with a status), else the first one whose standard error holds a Go crash report
// (a panic: its peers then fail with errors about it, often exiting first), else the first
// one seen.
func culprit(failed []*proc) *proc {
	for _, p := range failed {
		if p.exit.Signal != 0 {
			return p
		}
	}
	for _, p := range failed {
		if p.crashed.Load() {
			return p
		}
	}
	return failed[0]
}

// watch waits for every rank to end, stopping the job on the first failure, the timeout or an
// interrupt, and returns the result.
func (r *runner) watch(ctx context.Context) *Result {
	res := &Result{}
	why := causeNone
	running := len(r.procs)
	var timeout, grace, settle <-chan time.Time
	if r.cfg.Timeout > 0 {
		t := time.NewTimer(r.cfg.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var graceTimer, settleTimer *time.Timer
	defer func() {
		for _, t := range []*time.Timer{graceTimer, settleTimer} {
			if t != nil {
				t.Stop()
			}
		}
	}()
	// stop begins stopping the job: sig to every running rank, SIGKILL after the grace period.
	stop := func(sig syscall.Signal) {
		r.signalRunning(sig)
		if graceTimer == nil {
			graceTimer = time.NewTimer(r.cfg.Grace)
			grace = graceTimer.C
		}
	}
	var failed []*proc // ranks that failed on their own, before the job was being stopped
	// decide names the failed rank and stops the others.
	decide := func() {
		if why != causeNone || len(failed) == 0 {
			return
		}
		settle = nil
		// The failed ranks' last lines (an error message, a panic) come before the line that
		// names the failure: wait, briefly, for their output to end (a child of a rank may
		// hold its pipe open, hence the bound).
		expired := make(chan struct{})
		bound := time.AfterFunc(drainWait, func() { close(expired) })
		for _, q := range failed {
			if q.drained != nil {
				select {
				case <-q.drained:
				case <-expired:
				}
			}
		}
		bound.Stop()
		p := culprit(failed)
		why = causeFailure
		res.ExitCode = p.exit.Code()
		res.Reason = fmt.Sprintf("rank %d%s %s", p.slot.Rank, r.where(p), p.exit.How())
		if b, left, ok := r.blamed(failed); ok && b != p && p.exit.Signal == 0 && !p.crashed.Load() {
			if slices.Contains(failed, b) {
				// It failed too: name it, with its own exit.
				p = b
				res.ExitCode = p.exit.Code()
				res.Reason = fmt.Sprintf("rank %d%s %s", p.slot.Rank, r.where(p), p.exit.How())
			} else {
				// It did not fail (status 0, or still finalizing): the job fails with the
				// first failure's code, named after it.
				res.Reason = r.blameReason(b, left, failed)
				defer r.note("rank %d%s %s", p.slot.Rank, r.where(p), p.exit.How())
				p = nil
			}
		}
		if running > 0 {
			r.note("%s; stopping %s", res.Reason, r.runningRanks())
			stop(syscall.SIGTERM)
		} else {
			r.note("%s", res.Reason)
		}
		for _, q := range failed {
			if q != p && p != nil {
				r.note("rank %d%s %s too", q.slot.Rank, r.where(q), q.exit.How())
			}
		}
	}
	interrupt := func(sig syscall.Signal, what string) {
		decide()
		if why == causeNone {
			why = causeInterrupt
			res.ExitCode = ExitSignalBase + int(sig)
			res.Reason = what
			r.note("%s; stopping %s", what, r.runningRanks())
			stop(sig)
			return
		}
		r.note("%s; killing %s", what, r.runningRanks())
		r.signalRunning(syscall.SIGKILL)
	}
	signals, done := r.cfg.Signals, ctx.Done()
	var stall <-chan time.Time
	var lastStall string
	if d := r.cfg.ReportHangAfter; d > 0 && r.job.hangDir != "" {
		t := time.NewTicker(max(d/2, 100*time.Millisecond))
		defer t.Stop()
		stall = t.C
	}
	for running > 0 {
		select {
		case ev := <-r.events:
			running--
			p := r.procs[ev.i]
			p.done = true
			exitOf(&p.exit, ev.state)
			p.exit.Stopped = why != causeNone
			if r.server != nil {
				// Ranks still starting stop waiting for its keys (Init fails naming it).
				r.server.MarkGone(p.slot.Rank, p.exit.How())
			}
			if why == causeNone && p.exit.Failed() && r.cfg.KeepGoing {
				r.keepGoing(p)
			} else if why == causeNone && p.exit.Failed() {
				failed = append(failed, p)
				if settleTimer == nil {
					settleTimer = time.NewTimer(failureSettle)
					settle = settleTimer.C
				}
			} else {
				r.verbose("rank %d%s %s", p.slot.Rank, r.where(p), p.exit.How())
			}
		case <-settle:
			decide()
		case <-stall:
			if why == causeNone {
				r.stallCheck(r.cfg.ReportHangAfter, &lastStall)
			}
		case <-timeout:
			timeout = nil
			decide()
			if why == causeNone {
				why = causeTimeout
				res.ExitCode = ExitTimeout
				res.Reason = fmt.Sprintf("timeout after %v; ranks still running: %s", r.cfg.Timeout, r.runningList())
				r.note("%s", res.Reason)
				r.hangReport(fmt.Sprintf("after the %v timeout", r.cfg.Timeout))
				r.note("stopping %s", r.runningRanks())
				stop(syscall.SIGTERM)
			}
		case s := <-signals:
			sig, ok := s.(syscall.Signal)
			if !ok {
				sig = syscall.SIGTERM
			}
			if sig == syscall.SIGQUIT {
				r.hangReport("on SIGQUIT (the job goes on)")
				continue
			}
			interrupt(sig, "got signal "+signalName(sig))
		case <-done:
			done = nil
			interrupt(syscall.SIGTERM, "cancelled")
		case <-grace:
			grace = nil
			r.note("ranks %s still running %v after being stopped; killing them", r.runningList(), r.cfg.Grace)
			r.signalRunning(syscall.SIGKILL)
		}
	}
	decide()
	if why == causeNone {
		r.keptGoingResult(res)
	}
	res.Ranks = r.exits()
	return res
}

// where says where rank p runs, for messages: "" for local ranks, " on HOST" otherwise.
func (r *runner) where(p *proc) string {
	if p.slot.Local {
		return ""
	}
	return " on " + p.slot.Host
}

// runningRanks names the ranks still running with their noun: "rank 2", "ranks 0, 1, 3".
func (r *runner) runningRanks() string {
	l := r.runningList()
	if strings.Contains(l, ",") {
		return "ranks " + l
	}
	return "rank " + l
}

// runningList names the ranks still running: "0, 1, 3".
func (r *runner) runningList() string {
	var names []string
	for _, p := range r.procs {
		if p.started && !p.done {
			names = append(names, fmt.Sprint(p.slot.Rank))
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// signalRunning sends sig to the process group of every rank still running.
func (r *runner) signalRunning(sig syscall.Signal) {
	for _, p := range r.procs {
		if p.started && !p.done {
			syscall.Kill(-p.cmd.Process.Pid, sig)
		}
	}
}

// stopAll sends sig to the process group of every rank started, running or not.
func (r *runner) stopAll(sig syscall.Signal) {
	for _, p := range r.procs {
		if p.started {
			syscall.Kill(-p.cmd.Process.Pid, sig)
		}
	}
}

// waitAll waits for every started rank to end (after a failed start).
func (r *runner) waitAll() {
	for _, p := range r.procs {
		if p.started && !p.done {
			ev := <-r.events
			q := r.procs[ev.i]
			q.done = true
			exitOf(&q.exit, ev.state)
			q.exit.Stopped = true
		}
	}
	r.drainOutput()
}

// cleanupStragglers kills what is left in the ranks' process groups (background children of
// ranks that have ended) and waits, for a bounded time, for their output to end.
func (r *runner) cleanupStragglers() {
	r.stopAll(syscall.SIGKILL)
	r.drainOutput()
}

// drainOutput waits for the output forwarders; after outputDrain it closes the pipes (some
// process outside the ranks' groups holds them open) and waits again.
func (r *runner) drainOutput() {
	done := make(chan struct{})
	go func() {
		r.readers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(outputDrain):
		r.note("output of the ranks still open %v after they ended; closing it", outputDrain)
		for _, p := range r.procs {
			for _, f := range p.pipes {
				f.Close()
			}
		}
		<-done
	}
	for _, p := range r.procs {
		for _, f := range p.pipes {
			f.Close()
		}
		if p.stdinW != nil {
			p.stdinW.Close()
		}
	}
}

// exits returns every rank's end, by rank.
func (r *runner) exits() []RankExit {
	out := make([]RankExit, len(r.procs))
	for i, p := range r.procs {
		out[i] = p.exit
	}
	return out
}
