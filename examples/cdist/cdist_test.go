package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gompi/gompi/comm"
	"github.com/gompi/gompi/farm"
	"github.com/gompi/gompi/transport/inproc"
)

var report = regexp.MustCompile(`^cdist: (\d+)×(\d+) against (\d+)×(\d+) in (\d+) chunks on ranks \[[0-9 ]+\]: farm [0-9.]+ s, serial [0-9.]+ s, speed-up [0-9.]+×
checked: the \d+×\d+ distances equal the serial ones
$`)

// progressLines checks plain progress lines: "cdist: k/total", k growing, the last total/total.
func progressLines(s string, total int) error {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	last := 0
	for _, l := range lines {
		var k, n int
		if _, err := fmt.Sscanf(l, "cdist: %d/%d", &k, &n); err != nil || n != total || k <= last {
			return fmt.Errorf("line %q after %d/%d", l, last, total)
		}
		last = k
	}
	if last != total {
		return fmt.Errorf("the last line says %d/%d", last, total)
	}
	return nil
}

// TestCdist runs the program on 1 to 4 in-process ranks with small matrices and uneven chunks.
func TestCdist(t *testing.T) {
	for p := 1; p <= 4; p++ {
		o := options{m: 43, n: 17, d: 5, chunks: 10, seed: 2, progress: farm.ProgressLines}
		var out, progress bytes.Buffer
		err := inproc.Run(p, func(c *comm.Comm) error {
			var w, pw bytes.Buffer
			err := cdist(c, o, &w, &pw)
			if c.Rank() == 0 {
				out, progress = w, pw
			}
			return err
		})
		if err != nil {
			t.Errorf("p=%d: %v", p, err)
			continue
		}
		if !report.MatchString(out.String()) {
			t.Errorf("p=%d: report\n%s", p, out.String())
		}
		if err := progressLines(progress.String(), 10); err != nil {
			t.Errorf("p=%d: progress %q: %v", p, progress.String(), err)
		}
	}
}

func TestDistances(t *testing.T) {
	a := []float64{0, 0, 1, 1}       // rows (0,0), (1,1)
	b := []float64{3, 4, 1, 1, 0, 0} // rows (3,4), (1,1), (0,0)
	if got := fmt.Sprint(distances(a, b, 2)); got != fmt.Sprint([]float64{5, 1.4142135623730951, 0, 3.605551275463989, 0, 1.4142135623730951}) {
		t.Errorf("distances = %s", got)
	}
	if got := fmt.Sprint(chunkRows(10, 4)); got != "[0 3 6 8 10]" {
		t.Errorf("chunkRows(10, 4) = %s", got)
	}
}

// TestCdistProgress runs the built program: under gompirun on 4 ranks (standard error is a
// pipe) it prints progress lines ending in 100/100; alone on a terminal (script(1) gives it
// one) it draws a bar.
func TestCdistProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gompirun and the program")
	}
	dir := t.TempDir()
	gompirun, prog := filepath.Join(dir, "gompirun"), filepath.Join(dir, "cdist")
	for bin, pkg := range map[string]string{gompirun: "../../cmd/gompirun", prog: "."} {
		if out, err := exec.Command(goCmd(), "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gompirun, "-n", "4", prog, "-m", "200", "-n", "50", "-d", "10")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gompirun: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !report.MatchString(stdout.String()) {
		t.Errorf("report\n%s", stdout.String())
	}
	if err := progressLines(stderr.String(), 100); err != nil {
		t.Errorf("progress under gompirun %q: %v", stderr.String(), err)
	}

	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script(1) to give the program a terminal")
	}
	for _, line := range []string{prog + " -m 200 -n 50 -d 10", gompirun + " -n 3 " + prog + " -m 200 -n 50 -d 10"} {
		// Alone, and under gompirun, whose standard error is then the terminal.
		out, err := exec.CommandContext(ctx, script, "-qc", line, "/dev/null").CombinedOutput()
		s := string(out)
		if err != nil || !strings.Contains(s, "\r") || !strings.Contains(s, "cdist 100%") || !strings.Contains(s, "(100/100") || strings.Contains(s, "cdist: 100/100") {
			t.Errorf("%s on a terminal: %v, output %q; want a bar reaching 100%% (100/100) and no plain lines", line, err, s)
		}
	}
}

func goCmd() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
