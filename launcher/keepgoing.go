package launcher

import (
	"fmt"
	"strings"
)

// Config.KeepGoing (gompirun --keep-going): a rank that fails does not end the job. Programs
// that survive the loss of a rank, like a task farm whose coordinator hands a dead worker's
// tasks to the others, need the launcher to let them: by default it stops every rank as soon
// as one fails. With KeepGoing the launcher says at once which rank failed and how, lets the
// others run to their end, says it again at the end and exits with that rank's code, so the
// loss is never silent. The timeout, signals and a cancelled context end the job as usual.

// keepGoing notes a rank that failed while the others run on.
func (r *runner) keepGoing(p *proc) {
	r.kept = append(r.kept, p)
	running := 0
	for _, q := range r.procs {
		if q.started && !q.done {
			running++
		}
	}
	switch running {
	case 0:
		r.note("rank %d%s %s (--keep-going: no rank is left)", p.slot.Rank, r.where(p), p.exit.How())
	case 1:
		r.note("rank %d%s %s; rank %s goes on (--keep-going)", p.slot.Rank, r.where(p), p.exit.How(), r.runningList())
	default:
		r.note("rank %d%s %s; ranks %s go on (--keep-going)", p.slot.Rank, r.where(p), p.exit.How(), r.runningList())
	}
}

// keptGoingResult sets the result of a job that ran to its end under KeepGoing after ranks
// failed: the failure named is culprit's pick, as when a failure ends the job.
func (r *runner) keptGoingResult(res *Result) {
	if len(r.kept) == 0 {
		return
	}
	p := culprit(r.kept)
	res.ExitCode = p.exit.Code()
	res.Reason = fmt.Sprintf("rank %d%s %s", p.slot.Rank, r.where(p), p.exit.How())
	var all []string
	for _, q := range r.kept {
		all = append(all, fmt.Sprintf("rank %d%s %s", q.slot.Rank, r.where(q), q.exit.How()))
	}
	r.note("the job ran to its end (--keep-going), but %s", strings.Join(all, "; "))
}
