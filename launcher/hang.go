package launcher

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/gompi/gompi/internal/waits"
)

// A hang explains itself. Every local rank gets a directory of the job's (waits.EnvDir); a
// gompi rank says there that it can answer (ready.RANK) and, sent SIGUSR2, writes what its
// goroutines wait for (report.RANK.json). On --timeout, before stopping the ranks, and on
// SIGQUIT to gompirun (the job goes on), the launcher asks every rank that can answer, waits
// up to hangReportWait for the answers, and prints one line per rank, the cycles in who waits
// for whom, and the ranks most waited for. Ranks that cannot answer (not gompi programs,
// remote ranks, OpenMPI's backend) are listed as such; they are never signalled.

// hangReportWait bounds the wait for the ranks' answers.
const hangReportWait = time.Second

// hangDir makes the directory for hang reports; the job's cleanup removes it.
func (r *runner) hangDir() error {
	dir, err := os.MkdirTemp("", "gompi-hang-")
	if err != nil {
		return err
	}
	r.undo = append(r.undo, func() { os.RemoveAll(dir) })
	r.job.hangDir = dir
	return nil
}

// hangReport asks the running ranks what they wait for and prints it; why says when ("after
// the timeout", "on SIGQUIT").
func (r *runner) hangReport(why string) {
	asked, silent, reports := r.askRanks()
	for _, line := range hangLines(why, asked, silent, reports) {
		r.note("%s", line)
	}
}

// stallCheck is --report-hang-after: it asks the ranks what they wait for and prints the
// report when every running rank answered and has waited at least after for a message, with
// no rank's wait newer than that, unless the same stall was reported already (last holds the
// stall reported last: the ranks' oldest waits).
func (r *runner) stallCheck(after time.Duration, last *string) {
	asked, silent, reports := r.askRanks()
	if len(asked) == 0 || len(silent) > 0 || len(reports) < len(asked) {
		return
	}
	var key []string
	for _, p := range asked {
		rep := reports[p.slot.Rank]
		if len(rep.Waits) == 0 {
			return // computing: not a stall
		}
		for _, w := range rep.Waits {
			if rep.Time.Sub(w.Since) < after {
				return
			}
		}
		key = append(key, fmt.Sprint(p.slot.Rank, rep.Waits[0].Since.UnixNano()))
	}
	if k := strings.Join(key, " "); k != *last {
		*last = k
		for _, line := range hangLines(fmt.Sprintf("every rank has waited over %v (--report-hang-after)", after), asked, silent, reports) {
			r.note("%s", line)
		}
	}
}

// askRanks sends SIGUSR2 to every running rank that can answer and collects the answers that
// come within hangReportWait: the ranks asked, those that cannot answer, and the reports.
func (r *runner) askRanks() (asked, silent []*proc, reports map[int]waits.Report) {
	reports = map[int]waits.Report{}
	dir := r.job.hangDir
	if dir == "" {
		return nil, nil, reports
	}
	for _, p := range r.procs {
		if !p.started || p.done {
			continue
		}
		rank := p.slot.Rank
		os.Remove(filepath.Join(dir, fmt.Sprintf("report.%d.json", rank)))
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("ready.%d", rank))); err != nil || !p.slot.Local {
			silent = append(silent, p)
			continue
		}
		if err := p.cmd.Process.Signal(syscall.SIGUSR2); err != nil {
			silent = append(silent, p)
			continue
		}
		asked = append(asked, p)
	}
	deadline := time.Now().Add(hangReportWait)
	for len(reports) < len(asked) && time.Now().Before(deadline) {
		for _, p := range asked {
			rank := p.slot.Rank
			if _, ok := reports[rank]; ok {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("report.%d.json", rank)))
			if err != nil {
				continue
			}
			var rep waits.Report
			if json.Unmarshal(b, &rep) == nil {
				reports[rank] = rep
			}
		}
		if len(reports) < len(asked) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	return asked, silent, reports
}

// hangLines formats the report: one line per rank, then the cycles and the ranks most waited
// for.
func hangLines(why string, asked, silent []*proc, reports map[int]waits.Report) []string {
	lines := []string{fmt.Sprintf("what the ranks wait for, %s:", why)}
	type row struct {
		rank int
		text string
	}
	var rows []row
	waitsFor := map[int][]int{} // rank -> ranks it waits for
	for _, p := range asked {
		rank := p.slot.Rank
		rep, ok := reports[rank]
		if !ok {
			rows = append(rows, row{rank, "no answer within " + hangReportWait.String() + " (busy, or stopped)"})
			continue
		}
		for _, w := range rep.Waits {
			for _, q := range []int{w.Peer, w.From} {
				if q >= 0 && q != rank && !slices.Contains(waitsFor[rank], q) {
					waitsFor[rank] = append(waitsFor[rank], q)
				}
			}
		}
		rows = append(rows, row{rank, rep.Text()})
	}
	for _, p := range silent {
		rows = append(rows, row{p.slot.Rank, "cannot answer (not a gompi program, a remote rank, or the OpenMPI backend)"})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].rank < rows[j].rank })
	for _, rw := range rows {
		lines = append(lines, fmt.Sprintf("  rank %d  %s", rw.rank, rw.text))
	}
	for _, c := range waitCycles(waitsFor) {
		var s []string
		for _, q := range c {
			s = append(s, fmt.Sprint(q))
		}
		lines = append(lines, fmt.Sprintf("a cycle: ranks %s wait for each other (%s → %d)", strings.Join(s, ", "), strings.Join(s, " → "), c[0]))
	}
	by := map[int][]int{}
	for rank, qs := range waitsFor {
		for _, q := range qs {
			by[q] = append(by[q], rank)
		}
	}
	most := 0
	for _, ws := range by {
		most = max(most, len(ws))
	}
	if most >= 2 {
		var ranks []int
		for q, ws := range by {
			if len(ws) == most {
				ranks = append(ranks, q)
			}
		}
		sort.Ints(ranks)
		for _, q := range ranks {
			ws := by[q]
			sort.Ints(ws)
			lines = append(lines, fmt.Sprintf("rank %d is waited for by %d ranks (%s)", q, len(ws), joinInts(ws)))
		}
	}
	return lines
}

// waitCycles returns the elementary cycles of the wait-for graph g that start at their lowest
// rank, each once (small graphs: one per rank at most is looked for).
func waitCycles(g map[int][]int) [][]int {
	var cycles [][]int
	seen := map[string]bool{}
	var ranks []int
	for q := range g {
		ranks = append(ranks, q)
	}
	sort.Ints(ranks)
	for _, start := range ranks {
		var path []int
		on := map[int]bool{}
		var dfs func(q int) bool
		dfs = func(q int) bool {
			path = append(path, q)
			on[q] = true
			for _, n := range g[q] {
				if n == start {
					return true
				}
				if n > start && !on[n] && dfs(n) {
					return true
				}
			}
			path = path[:len(path)-1]
			on[q] = false
			return false
		}
		if dfs(start) {
			key := fmt.Sprint(path)
			if !seen[key] {
				seen[key] = true
				cycles = append(cycles, append([]int(nil), path...))
			}
		}
	}
	return cycles
}

func joinInts(v []int) string {
	var s []string
	for _, x := range v {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ", ")
}
