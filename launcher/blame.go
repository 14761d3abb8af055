package launcher

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Blame. A rank that fails because a peer went (its connection ended) writes, in the job's
// hang directory, which peer it saw go first and how: blame.RANK holds "PEER left" (the peer
// finalized: it returned from its work early) or "PEER died" (comm's Main, comm/hang.go). When
// every failed rank that says so names the same peer, that peer is where the failure began:
// gompirun names it first, even if it exited with status 0, which alone would look like
// success.

// blamed returns the rank the failed ranks agree went first, whether it left on purpose, and
// whether they agree (at least one says so and none names another).
func (r *runner) blamed(failed []*proc) (p *proc, left, ok bool) {
	dir := r.job.hangDir
	if dir == "" {
		return nil, false, false
	}
	who := -1
	for _, q := range failed {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("blame.%d", q.slot.Rank)))
		if err != nil {
			continue
		}
		var peer int
		var how string
		if _, err := fmt.Sscanf(string(b), "%d %s", &peer, &how); err != nil || peer < 0 || peer >= len(r.procs) {
			continue
		}
		if who >= 0 && peer != who {
			return nil, false, false
		}
		who, left = peer, how == "left"
	}
	if who < 0 {
		return nil, false, false
	}
	return r.procs[who], left, true
}

// blameReason describes p, which the failed ranks blame, when it did not fail itself: "rank 2
// finalized and left while ranks 0, 1, 3 still needed it".
func (r *runner) blameReason(p *proc, left bool, failed []*proc) string {
	var nums []int
	for _, q := range failed {
		nums = append(nums, q.slot.Rank)
	}
	slices.Sort(nums)
	var ranks []string
	for _, n := range nums {
		ranks = append(ranks, fmt.Sprint(n))
	}
	what := "went away"
	if left {
		what = "finalized and left (its work returned early)"
	}
	if p.done && p.exit.Code() == 0 {
		what += ", exiting with status 0,"
	}
	noun := "rank"
	if len(ranks) > 1 {
		noun = "ranks"
	}
	return fmt.Sprintf("rank %d%s %s while %s %s still needed it", p.slot.Rank, r.where(p), what, noun, strings.Join(ranks, ", "))
}
