package comm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/internal/pmi/pmitest"
)

// envChild selects what TestPMIChild does when this test binary runs as one rank of a job
// that TestInitJoinsPMIJob (or another test here) started with a fake PMI server.
const envChild = "GOMPI_TEST_PMI_CHILD"

// TestPMIChild is one rank of a PMI job (it skips under plain go test): Init through PMI_FD,
// then every rank sends its rank to rank 0, which prints the sum. With envChild=fail, rank 1
// exits with an error right after Init instead; with envChild=hang, every rank prints "ready"
// and waits in a Recv from the next rank that never comes.
func TestPMIChild(t *testing.T) {
	mode := os.Getenv(envChild)
	if mode == "" {
		t.Skip("runs as a rank of the job TestInitJoinsPMIJob starts")
	}
	c, err := comm.Init()
	if err != nil {
		fmt.Fprintf(os.Stderr, "child: %v\n", err)
		os.Exit(1)
	}
	if mode == "fail" && c.Rank() == 1 {
		fmt.Fprintf(os.Stderr, "child: rank 1 fails on purpose\n")
		os.Exit(3)
	}
	if mode == "hang" {
		// Every rank waits for the next one, which never sends: a cycle.
		fmt.Println("ready")
		_, err := comm.Recv(c, make([]int64, 1), (c.Rank()+1)%c.Size(), 99)
		fmt.Fprintf(os.Stderr, "child: rank %d: the Recv of the deadlock returned: %v\n", c.Rank(), err)
		os.Exit(1)
	}
	if c.Rank() != 0 {
		if err := comm.Send(c, []int64{int64(c.Rank())}, 0, 5); err != nil {
			fmt.Fprintf(os.Stderr, "child: rank %d: %v\n", c.Rank(), err)
			os.Exit(1)
		}
	} else {
		sum := int64(0)
		for r := 1; r < c.Size(); r++ {
			v := []int64{0}
			if _, err := comm.Recv(c, v, r, 5); err != nil {
				fmt.Fprintf(os.Stderr, "child: rank 0: %v\n", err)
				os.Exit(1)
			}
			sum += v[0]
		}
		fmt.Printf("size %d, sum of ranks %d\n", c.Size(), sum)
	}
	if err := comm.Finalize(); err != nil {
		fmt.Fprintf(os.Stderr, "child: rank %d: finalize: %v\n", c.Rank(), err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childResult is what one rank process of runPMIJob left.
type childResult struct {
	out, errOut string
	err         error
}

// runPMIJob runs n ranks of this test binary (TestPMIChild in the given mode) against srv
// until they end; see startPMIJob.
func runPMIJob(t *testing.T, srv *pmitest.Server, n int, mode string, extra func(rank int) []string) []childResult {
	t.Helper()
	return startPMIJob(t, srv, n, mode, extra).wait()
}

// pmiJob is a running job of runPMIJob's kind.
type pmiJob struct {
	cmds        []*exec.Cmd
	out, errOut []*syncBuffer
	cancel      context.CancelFunc
}

// syncBuffer is a bytes.Buffer that a test may read while a child process writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startPMIJob starts n ranks of this test binary (TestPMIChild in the given mode) against srv,
// each with PMI_FD=3 for its socket, PMI_RANK and PMI_SIZE, and extra variables per rank.
// When srv sees an abort, every rank is killed, as Slurm does.
func startPMIJob(t *testing.T, srv *pmitest.Server, n int, mode string, extra func(rank int) []string) *pmiJob {
	t.Helper()
	// A guard against a hang, not a synchronisation: a job of this test takes well under a second.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var base []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GOMPI_") || strings.HasPrefix(k, "PMI") || strings.HasPrefix(k, "SLURM_") || strings.HasPrefix(k, "OMPI_") {
			continue
		}
		base = append(base, kv)
	}
	j := &pmiJob{cancel: cancel}
	var mu sync.Mutex
	srv.OnAbort = func(int, string) {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range j.cmds {
			c.Process.Kill()
		}
	}
	for r := range n {
		f, err := srv.SocketPair(r)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPMIChild$", "-test.count=1")
		cmd.Env = append(append(base, envChild+"="+mode, "PMI_FD=3", "PMI_RANK="+strconv.Itoa(r), "PMI_SIZE="+strconv.Itoa(n), "PMI_JOBID=7.0"), extra(r)...)
		cmd.ExtraFiles = []*os.File{f}
		out, errOut := new(syncBuffer), new(syncBuffer)
		cmd.Stdout, cmd.Stderr = out, errOut
		mu.Lock()
		err = cmd.Start()
		if err == nil {
			j.cmds = append(j.cmds, cmd)
			j.out, j.errOut = append(j.out, out), append(j.errOut, errOut)
		}
		mu.Unlock()
		f.Close()
		if err != nil {
			cancel()
			t.Fatal(err)
		}
	}
	return j
}

// wait waits for every rank to end and returns what each left.
func (j *pmiJob) wait() []childResult {
	defer j.cancel()
	res := make([]childResult, len(j.cmds))
	for r, cmd := range j.cmds {
		res[r].err = cmd.Wait()
		res[r].out, res[r].errOut = j.out[r].String(), j.errOut[r].String()
	}
	return res
}

func noExtra(int) []string { return nil }

func TestInitJoinsPMIJob(t *testing.T) {
	for _, v := range []string{"1", "2"} {
		t.Run("PMI-"+v, func(t *testing.T) {
			const n = 3
			srv := &pmitest.Server{Size: n}
			defer srv.Close()
			res := runPMIJob(t, srv, n, "ok", func(int) []string { return []string{"GOMPI_PMI_VERSION=" + v} })
			for r, c := range res {
				if c.err != nil {
					t.Errorf("rank %d: %v\nstderr: %s", r, c.err, c.errOut)
				}
			}
			if want := "size 3, sum of ranks 3\n"; !strings.Contains(res[0].out, want) {
				t.Errorf("rank 0 printed %q, want %q", res[0].out, want)
			}
			if got := srv.Finalized(); got != n {
				t.Errorf("%d ranks finalized their PMI session, want %d", got, n)
			}
		})
	}
}

// A rank that cannot join after the PMI exchange aborts the job through PMI and says why;
// the others, waiting for it in the bootstrap, are ended by the launcher (here: the test).
func TestInitPMIJoinFailureAborts(t *testing.T) {
	const n = 3
	srv := &pmitest.Server{Size: n}
	defer srv.Close()
	res := runPMIJob(t, srv, n, "ok", func(r int) []string {
		if r == 1 {
			return []string{"GOMPI_TRANSPORT=carrier-pigeon"}
		}
		return nil
	})
	if !strings.Contains(res[1].errOut, "rank 1: join the job of the PMI launcher") || !strings.Contains(res[1].errOut, "carrier-pigeon") ||
		!strings.Contains(res[1].errOut, "PMI abort") {
		t.Errorf("rank 1's stderr %q does not say why it failed and that it aborts", res[1].errOut)
	}
	if a := srv.Aborts(); len(a) != 1 || !strings.HasPrefix(a[0], "rank 1: ") {
		t.Errorf("aborts %q, want one from rank 1", a)
	}
	for r, c := range res {
		if c.err == nil {
			t.Errorf("rank %d exited 0", r)
		}
	}
}

// A rank that dies after Init: rank 0, waiting for its message, fails naming it; no hang.
func TestInitPMIPeerDies(t *testing.T) {
	const n = 3
	srv := &pmitest.Server{Size: n}
	defer srv.Close()
	res := runPMIJob(t, srv, n, "fail", noExtra)
	var ee *exec.ExitError
	if !errors.As(res[1].err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("rank 1: %v, want exit status 3", res[1].err)
	}
	if res[0].err == nil || !strings.Contains(res[0].errOut, "rank 1") {
		t.Errorf("rank 0: %v, stderr %q; want a failure naming rank 1", res[0].err, res[0].errOut)
	}
}

// A task that never reaches Init (here: never started) would leave the others waiting at the
// PMI fence forever; after GOMPI_PMI_TIMEOUT they end the job through PMI abort, saying why.
func TestInitPMIFenceTimeout(t *testing.T) {
	srv := &pmitest.Server{Size: 3}
	defer srv.Close()
	res := runPMIJob(t, srv, 2, "ok", func(int) []string { return []string{"PMI_SIZE=3", "GOMPI_PMI_TIMEOUT=200ms"} })
	// The first rank to abort gets the others killed, perhaps before they say why.
	said := 0
	for r, c := range res {
		if c.err == nil {
			t.Errorf("rank %d exited 0", r)
		}
		if strings.Contains(c.errOut, "not every one of the 3 tasks reached Init within 200ms (GOMPI_PMI_TIMEOUT)") {
			said++
		}
	}
	if said == 0 {
		t.Errorf("no rank said why: %+v", res)
	}
	if a := srv.Aborts(); len(a) == 0 {
		t.Error("no rank aborted the job")
	}
}

// TestPMIHangReport: under a PMI launcher (srun), which gathers no hang reports, a rank sent
// SIGUSR2 prints what it waits for on standard error, and goes on waiting.
func TestPMIHangReport(t *testing.T) {
	const n = 3
	srv := &pmitest.Server{Size: n}
	j := startPMIJob(t, srv, n, "hang", noExtra)
	defer func() {
		for _, cmd := range j.cmds {
			cmd.Process.Kill()
		}
		j.wait()
	}()
	// A guard against a hang, not a synchronisation: each step below waits for an event.
	deadline := time.Now().Add(time.Minute)
	for r := range n {
		// SIGUSR2 before Init has set up the answer would end the process: wait for "ready".
		for !strings.Contains(j.out[r].String(), "ready") {
			if time.Now().After(deadline) {
				t.Fatalf("rank %d never got past Init; stderr %q", r, j.errOut[r].String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for r := range n {
		// The rank reports a Recv once it has parked in it; until then it says something else.
		want := fmt.Sprintf("gompi: rank %d waits (SIGUSR2): Recv(from rank %d, tag 99, 8 B) on world for ", r, (r+1)%n)
		for !strings.Contains(j.errOut[r].String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("rank %d: stderr %q has no line %q", r, j.errOut[r].String(), want)
			}
			if err := j.cmds[r].Process.Signal(syscall.SIGUSR2); err != nil {
				t.Fatalf("rank %d: %v (it ended: stderr %q)", r, err, j.errOut[r].String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		// (The call site is the first frame outside gompi's packages; here, the test runner's.)
		if !strings.Contains(j.errOut[r].String(), want) || !strings.Contains(j.errOut[r].String(), "; called from ") {
			t.Errorf("rank %d: the report does not name the call site; stderr %q", r, j.errOut[r].String())
		}
	}
	// Still waiting: the signal did not end them.
	for r, cmd := range j.cmds {
		if cmd.ProcessState != nil {
			t.Errorf("rank %d ended after SIGUSR2", r)
		}
	}
}
