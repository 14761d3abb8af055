package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/transport/inproc"
)

// failedLine is a waiting rank's report.
var failedLine = regexp.MustCompile(`^rank (\d+): BarrierContext failed ([0-9.]+) s after the call, (-?[0-9.]+) s after the deadline: context deadline exceeded$`)

// checkOutput checks the program's lines for p ranks: the product line, one report per waiting
// rank, returned within 1.5 s of the call (the deadline is 1 s away), the absent rank's line,
// and the world's last Barrier.
func checkOutput(t *testing.T, label string, p int, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := map[string]bool{fmt.Sprintf("rank 0: product of %d matrices in rank order", p): false, "rank 0: the world's collectives still work": false}
	if p == 1 {
		want["rank 0: alone, BarrierContext returned at once"] = false
	} else {
		want[fmt.Sprintf("rank %d: stayed away; the late Barrier returned", p-1)] = false
	}
	failed := map[int]bool{}
	for _, l := range lines {
		if m := failedLine.FindStringSubmatch(l); m != nil {
			r, _ := strconv.Atoi(m[1])
			call, _ := strconv.ParseFloat(m[2], 64)
			if call > 1.5 {
				t.Errorf("%s: rank %d returned %.3f s after its call, later than 1.5 s", label, r, call)
			}
			failed[r] = true
			continue
		}
		for prefix := range want {
			if strings.HasPrefix(l, prefix) {
				want[prefix] = true
			}
		}
	}
	for prefix, seen := range want {
		if !seen {
			t.Errorf("%s: no line %q in\n%s", label, prefix, out)
		}
	}
	for r := 0; r < p-1; r++ {
		if !failed[r] {
			t.Errorf("%s: no report of rank %d's BarrierContext in\n%s", label, r, out)
		}
	}
}

// TestDeadlineInProcess runs the program on 1, 2, 3 and 5 in-process ranks with a 1 s deadline.
func TestDeadlineInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for 1 s deadlines")
	}
	for _, p := range []int{1, 2, 3, 5} {
		var mu sync.Mutex
		var out bytes.Buffer
		err := inproc.Run(p, func(c *comm.Comm) error {
			var mine bytes.Buffer
			err := run(c, time.Second, &mine)
			mu.Lock()
			out.Write(mine.Bytes())
			mu.Unlock()
			return err
		})
		if err != nil {
			t.Fatalf("p=%d: %v", p, err)
		}
		checkOutput(t, fmt.Sprintf("in-process p=%d", p), p, out.String())
	}
}

// TestDeadlineGompirun runs the built program as separate processes under gompirun, on 1, 2, 3
// and 5 ranks (shared memory), and on 3 ranks over TCP.
func TestDeadlineGompirun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gompirun and waits for 1 s deadlines")
	}
	dir := t.TempDir()
	gompirun, prog := filepath.Join(dir, "gompirun"), filepath.Join(dir, "deadline")
	for bin, pkg := range map[string]string{gompirun: "../../cmd/gompirun", prog: "."} {
		if out, err := exec.Command(goCmd(), "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	runs := [][]string{{"-n", "1"}, {"-n", "2"}, {"-n", "3"}, {"-n", "5"}, {"-n", "3", "--transport", "tcp"}}
	for _, args := range runs {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, gompirun, append(args, prog)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		cancel()
		label := "gompirun " + strings.Join(args, " ")
		if err != nil {
			t.Errorf("%s: %v\nstdout:\n%s\nstderr:\n%s", label, err, stdout.String(), stderr.String())
			continue
		}
		p, _ := strconv.Atoi(args[1])
		checkOutput(t, label, p, stdout.String())
	}
}

func goCmd() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
