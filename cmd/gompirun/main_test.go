package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binaries built once by TestMain.
var (
	gompirunBin string // this command
	meshBin     string // testdata/mesh: bootstrap + full-mesh TCP check
	linesBin    string // testdata/lines: output stress
	rankTestBin string // internal/ranktest's test binary: the conformance suite as a rank
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gompirun-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gompirunBin = filepath.Join(dir, "gompirun")
	meshBin = filepath.Join(dir, "mesh")
	linesBin = filepath.Join(dir, "lines")
	rankTestBin = filepath.Join(dir, "ranktest")
	for bin, pkg := range map[string]string{gompirunBin: ".", meshBin: "./testdata/mesh", linesBin: "./testdata/lines",
		rankTestBin: "../../internal/ranktest"} {
		args := []string{"build", "-o", bin, pkg}
		if bin == rankTestBin {
			args = []string{"test", "-c", "-o", bin, pkg}
		}
		out, err := exec.Command(goCmd(), args...).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go %s: %v\n%s", strings.Join(args, " "), err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goCmd() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// result is what one gompirun run produced.
type result struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// gompirun runs the built gompirun with args and stdin; it fails the test if gompirun runs
// for more than a minute.
func gompirun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gompirunBin, args...)
	var out, errb bytes.Buffer
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	res := result{stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("gompirun %q hung: killed after a minute; stderr %q", args, res.stderr)
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("gompirun %q: %v", args, err)
		}
		res.code = ee.ExitCode()
	}
	return res
}

// Acceptance 1: rank 2 of 4 exits 3 → the others are gone within 5 s, gompirun exits 3 and
// names rank 2. Rank 3 ignores SIGTERM, so it is the grace period's SIGKILL that ends it.
func TestFailingRankEndsJob(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := `pidfile=` + dir + `/pid.$GOMPI_RANK
case $GOMPI_RANK in
2) sleep 0.3; exit 3;;
3) trap '' TERM; echo $$ > $pidfile; while :; do sleep 0.1; done;;
*) echo $$ > $pidfile; exec sleep 60;;
esac`
	res := gompirun(t, "", "-n", "4", "/bin/sh", "-c", script)
	if res.code != 3 {
		t.Fatalf("exit code %d, want 3; stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "rank 2 exited with status 3") {
		t.Errorf("stderr %q does not name rank 2 and status 3", res.stderr)
	}
	if res.elapsed > 5*time.Second+300*time.Millisecond {
		t.Errorf("job ended %v after start: the others were not gone within 5 s of rank 2's exit", res.elapsed)
	}
	for _, r := range []int{0, 1, 3} {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("pid.%d", r)))
		if err != nil {
			t.Errorf("rank %d never started: %v", r, err)
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
			t.Errorf("rank %d (pid %d) still exists after gompirun ended (kill 0: %v)", r, pid, err)
		}
	}
}

// Acceptance 1: a rank killed by SIGKILL → 137.
func TestKilledRankExitCode(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "-n", "3", "/bin/sh", "-c", `[ $GOMPI_RANK = 1 ] && kill -KILL $$; exec sleep 60`)
	if res.code != 137 {
		t.Fatalf("exit code %d, want 137; stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "rank 1 was killed by signal 9 (SIGKILL)") {
		t.Errorf("stderr %q does not say rank 1 was killed by SIGKILL", res.stderr)
	}
}

// Acceptance 1: --timeout 2s on sleeping ranks → exit code 124 in about 2 s, naming the ranks.
func TestTimeout(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "-n", "4", "--timeout", "2s", "/bin/sh", "-c", "exec sleep 60")
	if res.code != 124 {
		t.Fatalf("exit code %d, want 124; stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "timeout after 2s; ranks still running: 0, 1, 2, 3") {
		t.Errorf("stderr %q does not name the ranks still running", res.stderr)
	}
	if res.elapsed < 2*time.Second || res.elapsed > 8*time.Second {
		t.Errorf("job took %v, want about 2 s", res.elapsed)
	}
}

// linePattern matches a tagged output line of testdata/lines.
var linePattern = regexp.MustCompile(`^\[(\d+)\] (r=(\d+) i=(\d+) .*)$`)

// wantLine is line i of rank r of testdata/lines (same formula as its line function).
func wantLine(r, i, width int) string {
	b := []byte(fmt.Sprintf("r=%d i=%d ", r, i))
	for len(b) < width {
		b = append(b, byte('a'+(r+i+len(b))%26))
	}
	return string(b[:width])
}

// Acceptance 3: 8 ranks each print 10,000 lines of 200 bytes (in writes that cut lines at
// random places): every line arrives whole, in order per rank, tagged with its rank. PROGRAM
// is the package directory, so this also checks that gompirun builds it.
func TestOutputLinesWhole(t *testing.T) {
	t.Parallel()
	const ranks, width = 8, 200
	lines := 10000
	if testing.Short() {
		lines = 1000
	}
	res := gompirun(t, "", "-n", strconv.Itoa(ranks), "--tag-output", "./testdata/lines", strconv.Itoa(lines), strconv.Itoa(width))
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("exit code %d, stderr %q", res.code, res.stderr)
	}
	next := make([]int, ranks) // next line index expected from each rank
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		m := linePattern.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Fatalf("output line %d is not a whole tagged line: %.80q", n, sc.Text())
		}
		tag, _ := strconv.Atoi(m[1])
		r, _ := strconv.Atoi(m[3])
		i, _ := strconv.Atoi(m[4])
		if tag != r || r >= ranks {
			t.Fatalf("output line %d: tag [%d] on a line of rank %d", n, tag, r)
		}
		if i != next[r] || m[2] != wantLine(r, i, width) {
			t.Fatalf("output line %d: rank %d line %d, want its line %d, whole: %.80q", n, r, i, next[r], m[2])
		}
		next[r]++
	}
	for r, got := range next {
		if got != lines {
			t.Errorf("rank %d: %d lines arrived, want %d", r, got, lines)
		}
	}
	t.Logf("%d ranks × %d lines × %d bytes in %v", ranks, lines, width, res.elapsed)

	// Untagged, every line is still whole.
	res = gompirun(t, "", "-n", strconv.Itoa(ranks), linesBin, "1000", "300")
	if res.code != 0 {
		t.Fatalf("untagged: exit code %d, stderr %q", res.code, res.stderr)
	}
	count := make([]int, ranks)
	for _, l := range strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n") {
		var r, i int
		if _, err := fmt.Sscanf(l, "r=%d i=%d ", &r, &i); err != nil || r >= ranks || l != wantLine(r, i, 300) {
			t.Fatalf("untagged: line is not whole: %.80q", l)
		}
		count[r]++
	}
	for r, c := range count {
		if c != 1000 {
			t.Errorf("untagged: rank %d: %d lines, want 1000", r, c)
		}
	}
}

// The environment contract of DESIGN.md §5, as a shell-script rank sees it, and -x.
func TestEnvContract(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "-n", "4", "--tag-output", "-x", "FOO=bar,baz", "-x", "PATH",
		"/bin/sh", "-c", `env | grep -E '^(GOMPI_|FOO=|PATH=)'`)
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr %q", res.code, res.stderr)
	}
	env := make(map[int]map[string]string)
	for _, l := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var r int
		var kv string
		if _, err := fmt.Sscanf(l, "[%d] %s", &r, &kv); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if env[r] == nil {
			env[r] = make(map[string]string)
		}
		k, v, _ := strings.Cut(strings.TrimPrefix(l, fmt.Sprintf("[%d] ", r)), "=")
		env[r][k] = v
	}
	if len(env) != 4 {
		t.Fatalf("got the environment of %d ranks, want 4: %q", len(env), res.stdout)
	}
	hex := regexp.MustCompile(`^[0-9a-f]+$`)
	for r := range 4 {
		e := env[r]
		want := map[string]string{
			"GOMPI_RANK": strconv.Itoa(r), "GOMPI_SIZE": "4", "GOMPI_LOCAL_RANK": strconv.Itoa(r),
			"GOMPI_LOCAL_SIZE": "4", "GOMPI_HOST": "127.0.0.1", "GOMPI_TRANSPORT": "auto",
			"FOO": "bar,baz", "PATH": os.Getenv("PATH"),
		}
		for k, v := range want {
			if e[k] != v {
				t.Errorf("rank %d: %s=%q, want %q", r, k, e[k], v)
			}
		}
		if id := e["GOMPI_JOB_ID"]; len(id) != 16 || !hex.MatchString(id) || id != env[0]["GOMPI_JOB_ID"] {
			t.Errorf("rank %d: GOMPI_JOB_ID=%q, want the job's 16 hex digits", r, id)
		}
		if s := e["GOMPI_SECRET"]; len(s) != 64 || !hex.MatchString(s) || s != env[0]["GOMPI_SECRET"] {
			t.Errorf("rank %d: GOMPI_SECRET=%q, want the job's 64 hex digits", r, s)
		}
		if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(e["GOMPI_BOOTSTRAP"]) {
			t.Errorf("rank %d: GOMPI_BOOTSTRAP=%q, want 127.0.0.1:PORT", r, e["GOMPI_BOOTSTRAP"])
		}
	}
}

// Ranks find each other through the bootstrap service and connect on GOMPI_HOST.
func TestBootstrapMesh(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "-n", "4", meshBin)
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr %q", res.code, res.stderr)
	}
	for r := range 4 {
		if want := fmt.Sprintf("rank %d/4 sum=6 host=127.0.0.1\n", r); !strings.Contains(res.stdout, want) {
			t.Errorf("output %q lacks %q", res.stdout, want)
		}
	}
}

// Hosts that are not local go through the launch agent; here the agent runs the rank locally,
// and the hosts are distinct loopback addresses, so ranks listen and connect on their host's
// address.
func TestHostsThroughLaunchAgent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	agent := filepath.Join(dir, "agent")
	log := filepath.Join(dir, "agent.log")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\nhost=$1; shift\necho \"$host\" >> "+log+"\nexec /bin/sh -c \"$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hostfile := filepath.Join(dir, "hosts")
	os.WriteFile(hostfile, []byte("# two fake hosts\n127.0.0.2 slots=2\n127.0.0.3 slots=2\n"), 0o644)
	res := gompirun(t, "", "--hostfile", hostfile, "--launch-agent", agent, meshBin)
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr %q", res.code, res.stderr)
	}
	for r, host := range []string{"127.0.0.2", "127.0.0.2", "127.0.0.3", "127.0.0.3"} {
		if want := fmt.Sprintf("rank %d/4 sum=6 host=%s\n", r, host); !strings.Contains(res.stdout, want) {
			t.Errorf("output %q lacks %q", res.stdout, want)
		}
	}
	b, _ := os.ReadFile(log)
	if got := strings.Count(string(b), "\n"); got != 4 {
		t.Errorf("agent started %d ranks, want 4 (log %q)", got, b)
	}
}

func TestStdinToRank0(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "hello\nworld\n", "-n", "2", "--tag-output", "/bin/sh", "-c", `cat; echo "end $GOMPI_RANK"`)
	if res.code != 0 {
		t.Fatalf("exit code %d, stderr %q", res.code, res.stderr)
	}
	// Lines of different ranks may interleave; each rank's own lines keep their order.
	perRank := map[string]string{}
	for _, l := range strings.SplitAfter(res.stdout, "\n") {
		if len(l) > 3 {
			perRank[l[:3]] += l
		}
	}
	if got, want := perRank["[0]"], "[0] hello\n[0] world\n[0] end 0\n"; got != want {
		t.Errorf("rank 0 printed %q, want %q (all output %q)", got, want, res.stdout)
	}
	if got, want := perRank["[1]"], "[1] end 1\n"; got != want {
		t.Errorf("rank 1 printed %q, want %q (all output %q)", got, want, res.stdout)
	}
	if strings.Count(res.stdout, "hello") != 1 {
		t.Errorf("stdin reached more than rank 0: %q", res.stdout)
	}
}

// Everything after PROGRAM goes to the program, flags included.
func TestArgsAfterProgramUntouched(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "-n", "1", "/bin/sh", "-c", `printf '%s|' "$@"`, "sh", "-x", "3", "--tag-output", "-n", "5", "--", "a b")
	if res.code != 0 || res.stdout != "-x|3|--tag-output|-n|5|--|a b|\n" {
		t.Fatalf("exit code %d, output %q; want the arguments untouched", res.code, res.stdout)
	}
	res = gompirun(t, "", "-np", "2", "--", "/bin/echo", "hi")
	if res.code != 0 || res.stdout != "hi\nhi\n" {
		t.Fatalf("-np 2 -- echo hi: exit code %d, output %q", res.code, res.stdout)
	}
}

// SIGINT to gompirun reaches every rank; gompirun exits 130.
func TestSignalForwarded(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(gompirunBin, "-n", "3", "--tag-output", "/bin/sh", "-c",
		`trap 'echo got INT; exit 0' INT; echo ready; while :; do sleep 0.05; done`)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(stdout)
	var out []string
	for ready := 0; ready < 3 && sc.Scan(); {
		out = append(out, sc.Text())
		if strings.HasSuffix(sc.Text(), "ready") {
			ready++
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit code %d (%v), want 130; stderr %q", code, err, errb.String())
	}
	all := strings.Join(out, "\n")
	for r := range 3 {
		if !strings.Contains(all, fmt.Sprintf("[%d] got INT", r)) {
			t.Errorf("rank %d did not get SIGINT: output %q", r, all)
		}
	}
}

func TestUsageAndLaunchErrors(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data.txt")
	if err := os.WriteFile(data, []byte("not a program"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--bogus", "/bin/true"}, 2, "bogus"},
		{[]string{"-n", "2"}, 2, "no PROGRAM"},
		{[]string{"-n", "0", "/bin/true"}, 2, "at least 1"},
		{[]string{"--timeout", "soon", "/bin/true"}, 2, "timeout"},
		{[]string{"--host", "a:0", "/bin/true"}, 2, "slots"},
		{[]string{"--host", "a", "--hostfile", "/dev/null", "/bin/true"}, 2, "together"},
		{[]string{"--transport", "smoke", "/bin/true"}, 2, "smoke"},
		{[]string{"-n", "2", "/nonexistent/prog"}, 127, "not found"},
		{[]string{"-n", "2", data}, 126, "not an executable"},
		{[]string{"-n", "1", "/bin/true", ":", "-n", "2", "/bin/false"}, 2, "argument 2 is ':', which separates programs in mpirun's MPMD syntax"},
		{[]string{"--mpi", "--launch-agent", "rsh", "/bin/true"}, 2, "--launch-agent: not available with --mpi"},
		{[]string{"--mpi", "--keep-going", "--output-dir", "/tmp/x", "/bin/true"}, 2, "--output-dir, --keep-going: not available with --mpi"},
	}
	for _, tc := range cases {
		res := gompirun(t, "", tc.args...)
		if res.code != tc.code || !strings.Contains(res.stderr, tc.msg) {
			t.Errorf("gompirun %q: exit code %d, stderr %q; want %d and %q", tc.args, res.code, res.stderr, tc.code, tc.msg)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	res := gompirun(t, "", "--help")
	for _, want := range []string{"Examples:", "--tag-output", "--hostfile", "Exit codes:", "124 timeout"} {
		if res.code != 0 || !strings.Contains(res.stdout, want) {
			t.Errorf("--help: exit code %d, output lacks %q", res.code, want)
		}
	}
	res = gompirun(t, "", "--version")
	if res.code != 0 || !strings.HasPrefix(res.stdout, "gompirun version ") {
		t.Errorf("--version: exit code %d, output %q", res.code, res.stdout)
	}
}

func TestParseTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"2s": 2 * time.Second, "90": 90 * time.Second, "1.5": 1500 * time.Millisecond, "1m30s": 90 * time.Second} {
		if got, err := parseTimeout(in); err != nil || got != want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "soon", "-2s"} {
		if got, err := parseTimeout(in); err == nil {
			t.Errorf("parseTimeout(%q) = %v, want an error", in, got)
		}
	}
}
