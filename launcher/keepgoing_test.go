package launcher

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With KeepGoing, rank 1 kills itself and the others run to their end: rank 0 waits until the
// launcher has reaped rank 1 (kill -0 on its pid fails), then finishes normally. The job's
// code is rank 1's, and the launcher names it at once and at the end.
func TestRunKeepGoing(t *testing.T) {
	dir := t.TempDir()
	script := `case $GOMPI_RANK in
	1) echo $$ > ` + dir + `/pid.tmp; mv ` + dir + `/pid.tmp ` + dir + `/pid; kill -KILL $$;;
	0) while [ ! -e ` + dir + `/pid ]; do sleep 0.01; done
	   while kill -0 $(cat ` + dir + `/pid) 2>/dev/null; do sleep 0.01; done
	   echo "rank 0 outlived rank 1";;
	*) echo "rank $GOMPI_RANK done";;
	esac`
	res, out, errOut := runScript(t, 3, script, Config{KeepGoing: true, Grace: 100 * time.Millisecond})
	if res.ExitCode != 137 || res.Reason != "rank 1 was killed by signal 9 (SIGKILL)" {
		t.Fatalf("ExitCode %d, reason %q; want 137 naming rank 1 (stderr %q)", res.ExitCode, res.Reason, errOut)
	}
	if !strings.Contains(out, "rank 0 outlived rank 1") || !strings.Contains(out, "rank 2 done") {
		t.Errorf("output %q: the other ranks did not run to their end", out)
	}
	// Rank 2 may have ended before rank 1 died, or not.
	atOnce := regexp.MustCompile(`gompirun: rank 1 was killed by signal 9 \(SIGKILL\); (rank 0 goes on|ranks 0, 2 go on) \(--keep-going\)\n`)
	atEnd := "gompirun: the job ran to its end (--keep-going), but rank 1 was killed by signal 9 (SIGKILL)\n"
	if !atOnce.MatchString(errOut) || !strings.HasSuffix(errOut, atEnd) {
		t.Errorf("stderr %q: want rank 1 named as it died and at the end", errOut)
	}
	for _, e := range res.Ranks {
		switch {
		case e.Stopped:
			t.Errorf("rank %d was stopped: %+v", e.Rank, e)
		case e.Rank == 1 && e.Signal != syscall.SIGKILL:
			t.Errorf("rank 1: %+v, want killed by SIGKILL", e)
		case e.Rank != 1 && e.Status != 0:
			t.Errorf("rank %d: %+v, want status 0", e.Rank, e)
		}
	}
}

// With KeepGoing, several failures are all named at the end, the killed rank first in the
// exit code; a job without failures ends with 0 as usual.
func TestRunKeepGoingSeveral(t *testing.T) {
	res, _, errOut := runScript(t, 3, `case $GOMPI_RANK in 1) exit 4;; 2) kill -KILL $$;; esac`, Config{KeepGoing: true})
	if res.ExitCode != 137 || !strings.Contains(errOut, "rank 1 exited with status 4") || !strings.Contains(errOut, "rank 2 was killed by signal 9") {
		t.Errorf("ExitCode %d, stderr %q: want 137 and both failures named", res.ExitCode, errOut)
	}
	if res.Ranks[0].Stopped || res.Ranks[0].Status != 0 {
		t.Errorf("rank 0: %+v, want status 0, not stopped", res.Ranks[0])
	}
	res, _, errOut = runScript(t, 2, `exit 0`, Config{KeepGoing: true})
	if res.ExitCode != 0 || errOut != "" {
		t.Errorf("ExitCode %d, stderr %q: want 0 and nothing said", res.ExitCode, errOut)
	}
}
