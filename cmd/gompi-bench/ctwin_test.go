package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// buildCTwin compiles testdata/gompi-bench.c with mpicc and extra flags, or skips the test when
// OpenMPI is not installed.
func buildCTwin(t *testing.T, name string, flags ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building the C twin")
	}
	for _, tool := range []string{"mpicc", "mpirun"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not found: OpenMPI is not installed", tool)
		}
	}
	bin := filepath.Join(t.TempDir(), name)
	args := append([]string{"-O2", "-Wall", "-Werror", "-o", bin, filepath.Join("testdata", "gompi-bench.c")}, flags...)
	if out, err := exec.Command("mpicc", args...).CombinedOutput(); err != nil {
		t.Fatalf("mpicc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// mpirun runs bin on p ranks under OpenMPI and returns its standard output and error. It
// kills mpirun after a minute, or 5 seconds after a line of standard error matches stopAt (when
// not nil): OpenMPI 4.1.4's mpirun sometimes hangs once a rank has failed.
func mpirun(p int, bin string, stopAt *regexp.Regexp, args ...string) (string, string, error) {
	cmd := exec.Command("mpirun", append([]string{"--oversubscribe", "-n", strconv.Itoa(p), bin}, args...)...)
	cmd.Env = append(os.Environ(), "OMPI_ALLOW_RUN_AS_ROOT=1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
	var stdout strings.Builder
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return "", "", err
	}
	if err := cmd.Start(); err != nil {
		return "", "", err
	}
	var stderr strings.Builder
	matched, read := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(pipe)
		once := false
		for sc.Scan() {
			stderr.WriteString(sc.Text() + "\n")
			if !once && stopAt != nil && stopAt.MatchString(sc.Text()) {
				once = true
				close(matched)
			}
		}
	}()
	waited := make(chan error, 1)
	go func() {
		<-read
		waited <- cmd.Wait()
	}()
	limit := time.After(time.Minute)
	for {
		select {
		case err := <-waited:
			return stdout.String(), stderr.String(), err
		case <-matched:
			matched, limit = nil, time.After(5*time.Second)
		case <-limit:
			cmd.Process.Kill()
			err := <-waited
			return stdout.String(), stderr.String(), fmt.Errorf("killed after a timeout: %w", err)
		}
	}
}

// paddedValueRE is a value with two decimals and the spaces that right-align it.
var paddedValueRE = regexp.MustCompile(` *[0-9]+\.[0-9][0-9]`)

// shape reduces a table to its layout: the title and algorithm lines to a marker, every value
// to 0.00 right-aligned in the same width.
func shape(out string) string {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "# gompi-bench"):
			lines[i] = "TITLE"
		case strings.HasPrefix(l, "# Algorithm:"):
			lines[i] = "ALGORITHM"
		default:
			lines[i] = paddedValueRE.ReplaceAllStringFunc(l, func(m string) string { return fmt.Sprintf("%*s", len(m), "0.00") })
		}
	}
	return strings.Join(lines, "\n")
}

// TestCTwinSameOutput runs the C twin under OpenMPI and gompi-bench in process with the same
// arguments and compares the layout of their tables line by line.
func TestCTwinSameOutput(t *testing.T) {
	bin := buildCTwin(t, "gompi-bench-c")
	for _, tc := range []struct {
		p    int
		args []string
	}{
		{2, []string{"latency", "--sizes", "0,1,100,65600", "--iterations", "3", "--warmup", "1"}},
		{3, []string{"bw", "--min", "1", "--max", "4K", "-i", "3", "-x", "1", "--window", "4"}},
		{2, []string{"bibw", "--sizes", "1,65472,65600", "-i", "3", "-x", "1"}},
		{3, []string{"allreduce", "--sizes", "4,100,65600", "-i", "3", "-x", "1", "--full"}},
		{1, []string{"bcast", "--max", "1K", "-i", "3", "-x", "1"}},
		{3, []string{"reduce", "--sizes", "8,65600", "-i", "3", "-x", "0"}},
		{3, []string{"allgather", "--sizes", "1,100,65600", "-i", "3", "-x", "1"}},
		{2, []string{"alltoall", "--sizes", "1,100,65600", "-i", "3", "-x", "1", "-f"}},
		{3, []string{"barrier", "-i", "3", "-x", "1", "--full"}},
	} {
		label := fmt.Sprintf("%d ranks: %s", tc.p, strings.Join(tc.args, " "))
		cOut, cErr, err := mpirun(tc.p, bin, nil, tc.args...)
		if err != nil {
			t.Errorf("C twin, %s: %v\n%s", label, err, cErr)
			continue
		}
		var cfg config
		if code := cliMain(append([]string{"gompi-bench"}, tc.args...), io.Discard, os.Stderr, func(c config) error { cfg = c; return nil }); code != 0 {
			t.Fatalf("gompi-bench %s: exit code %d", label, code)
		}
		goOut, err := runOn(tc.p, cfg)
		if err != nil {
			t.Fatalf("gompi-bench, %s: %v", label, err)
		}
		if shape(goOut) != shape(cOut) {
			t.Errorf("%s: layouts differ\ngompi-bench:\n%s\nC twin:\n%s", label, goOut, cOut)
		}
	}
}

// TestCTwinChecksData builds the C twin so that it flips one received byte before each check,
// and expects it to fail with the byte gompi-bench's pattern says it should have found. The
// failing rank's message is what counts: mpirun's own ending after a failed rank is not always
// clean here (see mpirun).
func TestCTwinChecksData(t *testing.T) {
	bins := map[int]string{
		0: buildCTwin(t, "gompi-bench-c-flip0", "-DGOMPI_BENCH_FLIP_RANK=0"),
		1: buildCTwin(t, "gompi-bench-c-flip1", "-DGOMPI_BENCH_FLIP_RANK=1"),
	}
	failure := regexp.MustCompile(`gompi-bench-c: (\w+), size (\d+), rank (\d+): data check failed: (byte|element) (\d+).* is (\S+), want (\S+)`)
	const size, iterations, warmup = 100, 3, 1
	for _, b := range benchmarks {
		if b.kind == barrierKind {
			continue
		}
		victim := 1
		if b.name == "reduce" {
			victim = 0
		}
		_, stderr, err := mpirun(3, bins[victim], failure, b.name, "--sizes", strconv.Itoa(size), "-i", strconv.Itoa(iterations), "-x", strconv.Itoa(warmup))
		m := failure.FindStringSubmatch(stderr)
		if err == nil || m == nil {
			t.Errorf("%s: C twin with a flipped byte: error %v, stderr %q; want a data check failure", b.name, err, stderr)
			continue
		}
		if m[1] != b.name || m[2] != strconv.Itoa(size) || m[3] != strconv.Itoa(victim) {
			t.Errorf("%s: %q names the wrong benchmark, size or rank", b.name, m[0])
		}
		if b.name != "latency" {
			continue
		}
		// Rank 1 received rank 0's 100-byte message of the last iteration; the C twin must want
		// what gompi-bench's pattern gives.
		i, _ := strconv.Atoi(m[5])
		if want := fmt.Sprintf("0x%02x", expected(0, size, warmup+iterations-1, i, size)); m[7] != want {
			t.Errorf("latency: the C twin wants %s at byte %d, gompi-bench's pattern has %s", m[7], i, want)
		}
	}
}
