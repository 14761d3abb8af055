package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var buildMu sync.Mutex // serialises builds of testdata programs (they share the build cache)

// buildTestdata builds ./testdata/NAME into the test's temporary directory.
func buildTestdata(t *testing.T, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(goCmd(), "build", "-o", bin, "./testdata/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/%s: %v\n%s", name, err, out)
	}
	return bin
}

// runCmd runs name with args and extra environment; it fails the test after a minute.
func runCmd(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("%s %q hung: killed after a minute; stderr %q", name, args, res.stderr)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %q: %v", name, args, err)
	}
	return res
}

// Acceptance 2: a rank killed (SIGKILL) in the middle of an Allreduce loop. The job ends
// within 5 s, exits 137 and names the rank — whether the launcher stops the survivors (the
// default) or they must notice the failure themselves (they ignore SIGTERM, and the grace
// period is longer than the bound), in which case each ends with an error that it recognises
// as a peer failure (errors.Is(err, comm.ErrPeerFailed)).
func TestRankKilledDuringAllreduce(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "allreduce")
	cases := []struct {
		name  string
		flags []string
	}{
		{"launcher stops the survivors", nil},
		{"survivors detect the failure", []string{"--grace", "30s", "-x", "GOMPI_TEST_IGNORE_TERM=1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-n", "4", "-x", "GOMPI_TEST_DIE_RANK=2", "-x", "GOMPI_TEST_DIE_AT=50"}, tc.flags...)
			res := gompirun(t, "", append(args, bin, "1000000000", "1000")...)
			if res.code != 137 {
				t.Fatalf("exit code %d, want 137; stderr %q", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "rank 2 was killed by signal 9 (SIGKILL)") {
				t.Errorf("stderr %q does not name rank 2 and SIGKILL", res.stderr)
			}
			if res.elapsed > 5*time.Second {
				t.Errorf("job took %v, want at most 5 s", res.elapsed)
			}
			if tc.flags == nil {
				return
			}
			for _, r := range []int{0, 1, 3} {
				if !strings.Contains(res.stderr, fmt.Sprintf("rank %d: peer failure: ", r)) {
					t.Errorf("rank %d did not end with an error that errors.Is recognises as a peer failure; stderr %q", r, res.stderr)
				}
			}
		})
	}
}

// A rank that panics in the middle of an Allreduce loop: its peers fail at once with errors
// about it and often exit first, yet gompirun's first line names the rank that panicked, and
// exits with its status (2, Go's for a panic); the panic's report carries the rank without
// --tag-output (issue 15, acceptance 3; the note reports 20 runs).
func TestRankPanicsDuringAllreduce(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "allreduce")
	for run := range 5 {
		res := gompirun(t, "", "-n", "4", "-x", "GOMPI_TEST_DIE_RANK=3", "-x", "GOMPI_TEST_DIE_AT=50", "-x", "GOMPI_TEST_PANIC=1", bin, "1000000000", "10")
		first := ""
		for _, l := range strings.Split(res.stderr, "\n") {
			if strings.HasPrefix(l, "gompirun: ") {
				first = l
				break
			}
		}
		if res.code != 2 || first != "gompirun: rank 3 exited with status 2" {
			t.Errorf("run %d: exit code %d, first gompirun line %q; want 2 and rank 3 named; stderr %q", run, res.code, first, res.stderr)
		}
		if !strings.Contains(res.stderr, "[rank 3] panic: rank 3 gives up at iteration 50") || !strings.Contains(res.stderr, "[rank 3] goroutine ") {
			t.Errorf("run %d: the panic's report is not tagged with its rank; stderr %q", run, res.stderr)
		}
	}
}

// A hang explains itself (issue 15, acceptance 1): three ranks deadlock (0 and 1 each receive
// from the other, 2 waits in a Barrier); under --timeout 3s gompirun exits 124 within 7 s and,
// before stopping them, prints a line per rank naming what it waits in and for whom, and the
// cycle.
func TestHangReportOnTimeout(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "deadlock")
	res := gompirun(t, "", "-n", "3", "--timeout", "3s", bin)
	if res.code != 124 || res.elapsed > 7*time.Second {
		t.Fatalf("exit code %d after %v, want 124 within 7 s; stderr %q", res.code, res.elapsed, res.stderr)
	}
	for _, want := range []string{
		"gompirun: what the ranks wait for, after the 3s timeout:",
		"gompirun:   rank 0  Recv(from rank 1, tag 99, 32 B) on world for ",
		"gompirun:   rank 1  Recv(from rank 0, tag 99, 32 B) on world for ",
		"gompirun:   rank 2  in Barrier on world, waiting for ",
		"; called from main.main.func1 at main.go:",
		"gompirun: a cycle: ranks 0, 1 wait for each other (0 → 1 → 0)",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	if !strings.Contains(res.stderr, "Sendrecv(from rank ") && !strings.Contains(res.stderr, "Recv(from rank ") {
		t.Errorf("rank 2's line names no peer:\n%s", res.stderr)
	}
}

// A program that is not a gompi program is never signalled for a report: it is listed as
// unable to answer, and the timeout ends it as before.
func TestHangReportNotGompi(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "-n", "2", "--timeout", "1s", "/bin/sleep", "30")
	if res.code != 124 || !strings.Contains(res.stderr, "gompirun:   rank 1  cannot answer (not a gompi program") {
		t.Errorf("exit code %d, stderr %q", res.code, res.stderr)
	}
}

// SIGQUIT to gompirun prints the same report and the job goes on: the deadlocked ranks are
// still there afterwards, and end only with the timeout (exit code 124). The test sends SIGQUIT
// until a report lists every rank waiting (the ranks may not have parked at the first).
func TestHangReportOnSIGQUIT(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "deadlock")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gompirunBin, "-n", "3", "--timeout", "20s", bin)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Every rank says it is about to wait (so gompirun, which forwarded that, handles SIGQUIT).
	sc := bufio.NewScanner(stdout)
	for n := 0; n < 3 && sc.Scan(); n++ {
	}
	go io.Copy(io.Discard, stdout)
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var all []string
	seen := map[string]bool{}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for !(seen["rank 0  Recv(from rank 1"] && seen["rank 1  Recv(from rank 0"] && seen["rank 2  in Barrier"]) {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("gompirun ended before a full report:\n%s", strings.Join(all, "\n"))
			}
			all = append(all, l)
			if strings.Contains(l, "what the ranks wait for") {
				clear(seen) // a new report: every rank must be in the same one
			}
			for _, k := range []string{"rank 0  Recv(from rank 1", "rank 1  Recv(from rank 0", "rank 2  in Barrier"} {
				if strings.Contains(l, k) {
					seen[k] = true
				}
			}
		case <-tick.C:
			cmd.Process.Signal(syscall.SIGQUIT)
		case <-ctx.Done():
			t.Fatalf("no full report within a minute:\n%s", strings.Join(all, "\n"))
		}
	}
	if !slices.ContainsFunc(all, func(l string) bool { return strings.Contains(l, "on SIGQUIT (the job goes on)") }) {
		t.Errorf("the report does not say why it was made:\n%s", strings.Join(all, "\n"))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for l := range lines {
		all = append(all, l)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("gompirun after SIGQUIT then SIGTERM: %v, want exit 143:\n%s", err, strings.Join(all, "\n"))
	}
}

// A rank that returns early (rank 2, status 0) while the others still run their Allreduce
// loop: they fail because it left, and gompirun's first line names rank 2, and the job exits
// non-zero (issue 15, acceptance 3; the note reports 20 runs).
func TestRankReturnsEarly(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "early")
	for run := range 5 {
		res := gompirun(t, "", "-n", "4", bin)
		first := ""
		for _, l := range strings.Split(res.stderr, "\n") {
			if strings.HasPrefix(l, "gompirun: ") {
				first = l
				break
			}
		}
		if res.code == 0 || !strings.HasPrefix(first, "gompirun: rank 2 finalized and left (its work returned early)") ||
			!strings.Contains(first, "while ranks 0, 1, 3 still needed it") {
			t.Errorf("run %d: exit code %d, first gompirun line %q; want non-zero and rank 2 named; stderr %q", run, res.code, first, res.stderr)
		}
	}
}

// An unsafe send-send exchange passes normally and, under --strict, hangs at once, and the
// timeout's report names the two sends (issue 15, acceptance 4).
func TestStrictUnsafeExchange(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "unsafe")
	if res := gompirun(t, "", "-n", "2", bin); res.code != 0 || strings.Count(res.stdout, "exchanged") != 2 {
		t.Fatalf("without --strict: exit code %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	res := gompirun(t, "", "-n", "2", "--strict", "--timeout", "2s", bin)
	if res.code != 124 {
		t.Fatalf("with --strict: exit code %d, want 124; stderr %q", res.code, res.stderr)
	}
	for _, want := range []string{
		"gompirun:   rank 0  Send(to rank 1, tag 7, 8 B) on world for ",
		"gompirun:   rank 1  Send(to rank 0, tag 7, 8 B) on world for ",
		"gompirun: a cycle: ranks 0, 1 wait for each other (0 → 1 → 0)",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("with --strict: stderr lacks %q:\n%s", want, res.stderr)
		}
	}
}

// --report-hang-after prints the report once every rank has waited that long, once per stall,
// and the job goes on (here until its timeout); a job that does not stall prints none.
func TestReportHangAfter(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "deadlock")
	res := gompirun(t, "", "-n", "3", "--report-hang-after", "500ms", "--timeout", "3s", bin)
	stall := strings.Index(res.stderr, "what the ranks wait for, every rank has waited over 500ms (--report-hang-after):")
	timeout := strings.Index(res.stderr, "what the ranks wait for, after the 3s timeout:")
	if res.code != 124 || stall < 0 || timeout < stall || strings.Count(res.stderr, "(--report-hang-after)") != 1 {
		t.Errorf("exit code %d; want 124, one stall report before the timeout's; stderr:\n%s", res.code, res.stderr)
	}
	ok := gompirun(t, "", "-n", "2", "--report-hang-after", "100ms", buildTestdata(t, "allreduce"), "200", "1000")
	if ok.code != 0 || strings.Contains(ok.stderr, "what the ranks wait for") {
		t.Errorf("a job that does not stall: exit code %d, stderr %q", ok.code, ok.stderr)
	}
}

// A rank that does not join the job: the others wait in Init for it, and the timeout's report
// says so (rather than that they are computing).
func TestHangReportInInit(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "allreduce")
	res := gompirun(t, "", "-n", "3", "--timeout", "2s", "-x", "GOMPI_TEST_STALL_BEFORE_INIT=2", bin)
	if res.code != 124 || !strings.Contains(res.stderr, "gompirun:   rank 0  in Init, joining the job: connecting to the other ranks") {
		t.Errorf("exit code %d, stderr %q", res.code, res.stderr)
	}
}

// A rank that dies before Init, under --keep-going (without it gompirun ends the job at
// once): gompirun tells the bootstrap service, and the others' Init fails at once naming the
// dead rank and how it ended, rather than after the 60 s connect timeout; with the default
// transports (the host exchange sees it) and with --transport tcp (the TCP transport's wait
// for the ranks that connect to it does).
func TestDeathBeforeInit(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "allreduce")
	for _, tr := range []string{"auto", "tcp"} {
		res := gompirun(t, "", "-n", "3", "--keep-going", "--tag-output", "--transport", tr, "-x", "GOMPI_TEST_EXIT_BEFORE_INIT=1", bin)
		if res.code != 3 {
			t.Errorf("--transport %s: exit code %d, want 3 (rank 1's); stderr %q", tr, res.code, res.stderr)
		}
		for _, r := range []int{0, 2} {
			want := fmt.Sprintf("[%d] init: ", r)
			var line string
			for _, l := range strings.Split(res.stderr, "\n") {
				if strings.HasPrefix(l, want) {
					line = l
				}
			}
			if !strings.Contains(line, "rank 1 exited with status 3 before it set") {
				t.Errorf("--transport %s: rank %d's Init error %q does not name rank 1 and how it ended; stderr %q", tr, r, line, res.stderr)
			}
		}
	}
}

// A rank that returns early while the others run an Allreduce loop, under --keep-going so
// that every survivor lives to print its error: each names rank 2 as where its failure began,
// also those whose call failed on another neighbour.
func TestSurvivorsNameTheRankThatLeft(t *testing.T) {
	t.Parallel()
	bin := buildTestdata(t, "early")
	res := gompirun(t, "", "-n", "4", "--keep-going", bin)
	if res.code == 0 {
		t.Fatalf("exit code 0; stderr %q", res.stderr)
	}
	for _, r := range []int{0, 1, 3} {
		prefix := fmt.Sprintf("gompi: rank %d: ", r)
		var line string
		for _, l := range strings.Split(res.stderr, "\n") {
			if strings.HasPrefix(l, prefix) {
				line = l
			}
		}
		if !strings.Contains(line, "rank 2 finalized and left") {
			t.Errorf("rank %d's error %q does not name rank 2 as the rank that left; stderr %q", r, line, res.stderr)
		}
	}
}
