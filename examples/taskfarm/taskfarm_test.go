package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// lockedBuffer collects the output of in-process ranks.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

var taskLine = regexp.MustCompile(`^  task +(\d+): slept \S+ on rank (\d+) \(pid (\d+)\)$`)

// TestTaskfarmInProcess runs the program on 1 to 4 in-process ranks and checks its report:
// every task once in each map, in order for Map, and on workers only.
func TestTaskfarmInProcess(t *testing.T) {
	for p := 1; p <= 4; p++ {
		var out lockedBuffer
		o := options{tasks: 10, delay: 4 * time.Millisecond, seed: 3, kill: -1, announce: true}
		err := inproc.Run(p, func(c *comm.Comm) error { return taskfarm(c, o, &out) })
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		s := out.b.String()
		var mapped []int
		starts := 0
		for _, l := range strings.Split(s, "\n") {
			if strings.Contains(l, " starts task ") {
				starts++
			}
			if m := taskLine.FindStringSubmatch(l); m != nil {
				i, _ := strconv.Atoi(m[1])
				r, _ := strconv.Atoi(m[2])
				mapped = append(mapped, i)
				if p > 1 && r == 0 {
					t.Errorf("p=%d: task %d ran on the coordinator", p, i)
				}
			}
		}
		if len(mapped) != 20 || starts != 20 || fmt.Sprint(mapped[:10]) != "[0 1 2 3 4 5 6 7 8 9]" {
			t.Errorf("p=%d: tasks %v, %d starts announced; want 0..9 in order, then 10 more, 20 starts:\n%s", p, mapped, starts, s)
		}
		if !strings.Contains(s, "checked: 10 tasks in each map") {
			t.Errorf("p=%d: no checked line:\n%s", p, s)
		}
	}
}

// TestTaskfarmKilled runs the built program under gompirun --keep-going on 4 ranks, kills the
// first worker that announces a task with SIGKILL, and checks that the coordinator reports
// that rank and one of its tasks within 5 s: without retries Map fails and rank 0 exits 1;
// with -retries 1 the tasks run elsewhere and the program checks its results. gompirun
// reports the killed rank and exits 137 either way.
func TestTaskfarmKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gompirun and runs tasks of 200-400 ms")
	}
	dir := t.TempDir()
	gompirun, prog := filepath.Join(dir, "gompirun"), filepath.Join(dir, "taskfarm")
	for bin, pkg := range map[string]string{gompirun: "../../cmd/gompirun", prog: "."} {
		if out, err := exec.Command(goCmd(), "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	for _, retries := range []int{0, 1} {
		t.Run(fmt.Sprintf("retries=%d", retries), func(t *testing.T) {
			killRun(t, gompirun, prog, retries)
		})
	}
}

var startLine = regexp.MustCompile(`^rank (\d+) \(pid (\d+)\) starts task (\d+)$`)

func killRun(t *testing.T, gompirun, prog string, retries int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // against hangs only
	defer cancel()
	cmd := exec.CommandContext(ctx, gompirun, "-n", "4", "--keep-going", prog,
		"-tasks", "12", "-delay", "400ms", "-announce", "-retries", fmt.Sprint(retries))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	type line struct {
		text string
		err  bool
	}
	lines := make(chan line)
	var readers sync.WaitGroup
	for _, r := range []struct {
		rd  io.Reader
		err bool
	}{{stdout, false}, {stderr, true}} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			sc := bufio.NewScanner(r.rd)
			for sc.Scan() {
				lines <- line{sc.Text(), r.err}
			}
		}()
	}
	go func() {
		readers.Wait()
		close(lines)
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var all []string
	victim, killedAt := -1, time.Time{}
	announced := map[int]bool{} // tasks the victim announced
	reported := false
	// The coordinator's report: Map's error (retries 0) or the farm's notice (retries 1).
	report := regexp.MustCompile(`farm: rank (\d+) died running task sleep\[(\d+)\]`)
	for l := range lines {
		all = append(all, l.text)
		if m := startLine.FindStringSubmatch(l.text); m != nil {
			r, _ := strconv.Atoi(m[1])
			pid, _ := strconv.Atoi(m[2])
			i, _ := strconv.Atoi(m[3])
			if victim < 0 && r != 0 {
				victim, killedAt = r, time.Now()
				if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
					t.Fatalf("kill rank %d (pid %d): %v", r, pid, err)
				}
			}
			if r == victim {
				announced[i] = true
			}
			continue
		}
		if m := report.FindStringSubmatch(l.text); m != nil && l.err && !reported {
			reported = true
			r, _ := strconv.Atoi(m[1])
			i, _ := strconv.Atoi(m[2])
			if d := time.Since(killedAt); d > 5*time.Second {
				t.Errorf("the death of rank %d was reported %v after the kill, later than 5 s", victim, d)
			}
			if r != victim || !announced[i] {
				t.Errorf("report %q: want rank %d and one of its tasks %v", l.text, victim, announced)
			}
			if retries > 0 && !strings.Contains(l.text, "they run again on other ranks") {
				t.Errorf("report %q does not say the tasks run again", l.text)
			}
		}
	}
	err = cmd.Wait()
	text := strings.Join(all, "\n")
	if ctx.Err() != nil {
		t.Fatalf("the job hung:\n%s", text)
	}
	if victim < 0 || !reported {
		t.Fatalf("victim %d, reported %v:\n%s", victim, reported, text)
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 137 {
		t.Errorf("gompirun: %v, want exit code 137 (the killed rank's):\n%s", err, text)
	}
	for _, want := range []string{
		fmt.Sprintf("gompirun: rank %d was killed by signal 9 (SIGKILL); ranks ", victim),
		fmt.Sprintf("gompirun: the job ran to its end (--keep-going), but rank %d was killed by signal 9 (SIGKILL)", victim),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("no line %q in:\n%s", want, text)
		}
	}
	checked := strings.Contains(text, "checked: 12 tasks in each map")
	if retries > 0 && !checked {
		t.Errorf("with retries the program did not check its results:\n%s", text)
	}
	if retries == 0 && (checked || !strings.Contains(text, "rank 0 exited with status 1")) {
		t.Errorf("without retries rank 0 should fail:\n%s", text)
	}
}

func goCmd() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
