package launcher

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the launcher's concurrent writes and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// runScript runs script with sh on np ranks; cfg may set more fields.
func runScript(t *testing.T, np int, script string, cfg Config) (*Result, string, string) {
	t.Helper()
	var out, errb syncBuffer
	cfg.NP = np
	cfg.Program = "/bin/sh"
	cfg.Args = append([]string{"-c", script, "rank"}, cfg.Args...)
	cfg.Stdout, cfg.Stderr = &out, &errb
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v (stderr: %s)", err, errb.String())
	}
	return res, out.String(), errb.String()
}

func sortedLines(s string) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	sort.Strings(lines)
	return lines
}

func TestRunSuccess(t *testing.T) {
	res, out, _ := runScript(t, 3, `echo "rank $GOMPI_RANK of $GOMPI_SIZE"`, Config{TagOutput: true})
	if res.ExitCode != ExitOK || res.Reason != "" {
		t.Fatalf("ExitCode = %d (%s), want 0", res.ExitCode, res.Reason)
	}
	want := []string{"[0] rank 0 of 3", "[1] rank 1 of 3", "[2] rank 2 of 3"}
	if got := sortedLines(out); !slicesEqual(got, want) {
		t.Fatalf("output %q, want %q", got, want)
	}
	for i, e := range res.Ranks {
		if e.Rank != i || e.Status != 0 || e.Signal != 0 || e.Stopped || e.PID == 0 {
			t.Errorf("Ranks[%d] = %+v", i, e)
		}
	}
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n")
}

// The first failing rank decides the exit code; the others are stopped, and one that ignores
// SIGTERM is killed after the grace period.
func TestRunFailureStopsOthers(t *testing.T) {
	script := `case $GOMPI_RANK in
	1) sleep 0.2; exit 7;;
	2) trap '' TERM; while :; do sleep 0.05; done;;
	*) exec sleep 60;;
	esac`
	start := time.Now()
	res, _, errOut := runScript(t, 4, script, Config{Grace: 300 * time.Millisecond})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("job took %v after rank 1 failed", d)
	}
	if res.ExitCode != 7 {
		t.Fatalf("ExitCode = %d, want 7 (stderr %q)", res.ExitCode, errOut)
	}
	if !strings.Contains(errOut, "rank 1 exited with status 7") || !strings.Contains(res.Reason, "rank 1 exited with status 7") {
		t.Errorf("stderr %q / reason %q do not name rank 1 and status 7", errOut, res.Reason)
	}
	for _, e := range res.Ranks {
		switch e.Rank {
		case 1:
			if e.Stopped || e.Status != 7 {
				t.Errorf("rank 1: %+v, want status 7 and not stopped", e)
			}
		case 2:
			if !e.Stopped || e.Signal != syscall.SIGKILL {
				t.Errorf("rank 2 (ignores SIGTERM): %+v, want SIGKILL after the grace period", e)
			}
		default:
			if !e.Stopped || e.Signal != syscall.SIGTERM {
				t.Errorf("rank %d: %+v, want stopped by SIGTERM", e.Rank, e)
			}
		}
	}
}

func TestRunSignalForwarded(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	script := `trap 'echo "rank $GOMPI_RANK got INT"; exit 0' INT; echo ready; while :; do sleep 0.05; done`
	var out syncBuffer
	go func() {
		// Wait until both ranks have set their trap.
		for strings.Count(out.String(), "ready") < 2 {
			time.Sleep(10 * time.Millisecond)
		}
		sigs <- syscall.SIGINT
	}()
	var errb syncBuffer
	res, err := Run(context.Background(), Config{NP: 2, Program: "/bin/sh", Args: []string{"-c", script},
		Signals: sigs, Stdout: &out, Stderr: &errb, Grace: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != ExitSignalBase+int(syscall.SIGINT) {
		t.Errorf("ExitCode = %d, want 130", res.ExitCode)
	}
	for r := range 2 {
		if !strings.Contains(out.String(), fmt.Sprintf("rank %d got INT", r)) {
			t.Errorf("rank %d did not get SIGINT; output %q", r, out.String())
		}
	}
	if !strings.Contains(errb.String(), "got signal 2 (SIGINT)") {
		t.Errorf("stderr %q does not report the signal", errb.String())
	}
}

// A second signal kills ranks that ignore the first at once, without waiting for the grace period.
func TestRunSecondSignalKills(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	var out syncBuffer
	go func() {
		for strings.Count(out.String(), "ready") < 2 {
			time.Sleep(10 * time.Millisecond)
		}
		sigs <- syscall.SIGINT
		time.Sleep(100 * time.Millisecond)
		sigs <- syscall.SIGINT
	}()
	start := time.Now()
	res, err := Run(context.Background(), Config{NP: 2, Program: "/bin/sh",
		Args:    []string{"-c", `trap '' INT TERM; echo ready; while :; do sleep 0.05; done`},
		Signals: sigs, Stdout: &out, Stderr: &syncBuffer{}, Grace: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("second signal did not kill the ranks: job took %v", d)
	}
	if res.ExitCode != 130 {
		t.Errorf("ExitCode = %d, want 130", res.ExitCode)
	}
	for _, e := range res.Ranks {
		if e.Signal != syscall.SIGKILL {
			t.Errorf("rank %d: %+v, want killed by SIGKILL", e.Rank, e)
		}
	}
}

func TestRunContextCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := Run(ctx, Config{NP: 2, Program: "/bin/sh", Args: []string{"-c", "exec sleep 60"},
		Stdout: &syncBuffer{}, Stderr: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 143 || res.Reason != "cancelled" {
		t.Errorf("ExitCode = %d (%q), want 143 (cancelled)", res.ExitCode, res.Reason)
	}
}

func TestRunTimeout(t *testing.T) {
	res, _, errOut := runScript(t, 3, `[ $GOMPI_RANK = 1 ] && exit 0; exec sleep 60`, Config{Timeout: 300 * time.Millisecond})
	if res.ExitCode != ExitTimeout {
		t.Fatalf("ExitCode = %d, want %d", res.ExitCode, ExitTimeout)
	}
	if !strings.Contains(errOut, "ranks still running: 0, 2") {
		t.Errorf("stderr %q does not name ranks 0 and 2", errOut)
	}
}

func TestRunStdinToRank0(t *testing.T) {
	res, out, _ := runScript(t, 3, `echo "$GOMPI_RANK read: $(cat | tr '\n' ' ')"`,
		Config{Stdin: strings.NewReader("one\ntwo\n")})
	if res.ExitCode != 0 {
		t.Fatalf("ExitCode = %d", res.ExitCode)
	}
	want := []string{"0 read: one two ", "1 read: ", "2 read: "}
	if got := sortedLines(out); !slicesEqual(got, want) {
		t.Fatalf("output %q, want %q", got, want)
	}
}

func TestRunOutputDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	res, out, _ := runScript(t, 2, `echo "out $GOMPI_RANK"; echo "err $GOMPI_RANK" >&2; printf tail`,
		Config{OutputDir: dir, TagOutput: true})
	if res.ExitCode != 0 || out != "" {
		t.Fatalf("ExitCode = %d, terminal output %q; want 0 and nothing", res.ExitCode, out)
	}
	for r := range 2 {
		for stream, want := range map[string]string{"stdout": fmt.Sprintf("out %d\ntail\n", r), "stderr": fmt.Sprintf("err %d\n", r)} {
			b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("rank.%d.%s", r, stream)))
			if err != nil || string(b) != want {
				t.Errorf("rank.%d.%s = %q, %v; want %q", r, stream, b, err, want)
			}
		}
	}
}

func TestRunEnv(t *testing.T) {
	t.Setenv("GOMPI_LAUNCHER_TEST_PASS", "passed")
	t.Setenv("GOMPI_RANK", "99") // a launcher's own GOMPI_ variables must not leak
	res, out, _ := runScript(t, 2, `echo "$GOMPI_RANK $GOMPI_LOCAL_RANK $GOMPI_LOCAL_SIZE $GOMPI_HOST $GOMPI_TRANSPORT $A $GOMPI_LAUNCHER_TEST_PASS [$UNSET_X]"`,
		Config{Env: []string{"A=x=y", "GOMPI_LAUNCHER_TEST_PASS", "UNSET_X"}})
	if res.ExitCode != 0 {
		t.Fatalf("ExitCode = %d", res.ExitCode)
	}
	want := []string{"0 0 2 127.0.0.1 auto x=y passed []", "1 1 2 127.0.0.1 auto x=y passed []"}
	if got := sortedLines(out); !slicesEqual(got, want) {
		t.Fatalf("output %q, want %q", got, want)
	}
}

// Background children of a rank that has ended are killed with its process group, so the
// job ends although they hold the output pipe.
func TestRunKillsStragglers(t *testing.T) {
	start := time.Now()
	res, out, _ := runScript(t, 1, `sleep 60 & echo started`, Config{})
	if res.ExitCode != 0 || out != "started\n" {
		t.Fatalf("ExitCode %d, output %q", res.ExitCode, out)
	}
	if d := time.Since(start); d > outputDrain {
		t.Fatalf("job took %v: the straggler kept it open", d)
	}
}

func TestRunLaunchAgent(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "agent.log")
	agent := filepath.Join(dir, "agent")
	// Like ssh: record the host, then run the rest of the words with a shell.
	script := "#!/bin/sh\nhost=$1; shift\necho \"$host\" >> " + log + "\nexec /bin/sh -c \"$*\"\n"
	if err := os.WriteFile(agent, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res, out, errOut := runScript(t, 5,
		`printf '%s|' "$GOMPI_RANK" "$GOMPI_HOST" "$GOMPI_LOCAL_RANK" "$GOMPI_LOCAL_SIZE" "$X" "$@"; echo`,
		Config{
			Hosts:         []Host{{"nodeA", 2}, {"localhost", 1}, {"nodeB", 2}},
			LaunchAgent:   []string{agent},
			BootstrapAddr: "127.0.0.1",
			Env:           []string{"X=it's $HOME"},
			Args:          []string{"a b", `"q"`, ""},
		})
	if res.ExitCode != 0 {
		t.Fatalf("ExitCode = %d, stderr %q", res.ExitCode, errOut)
	}
	tail := `it's $HOME|a b|"q"||`
	want := []string{
		// No GOMPI_HOST in a multi-host job: each rank chooses its address (bootstrap.ListenAddr).
		"0||0|2|" + tail, "1||1|2|" + tail, "2||0|1|" + tail,
		"3||0|2|" + tail, "4||1|2|" + tail,
	}
	if got := sortedLines(out); !slicesEqual(got, want) {
		t.Fatalf("output\n%q\nwant\n%q", got, want)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedLines(string(b)); !slicesEqual(got, []string{"nodeA", "nodeA", "nodeB", "nodeB"}) {
		t.Errorf("agent started ranks on %q, want nodeA twice and nodeB twice", got)
	}
}

func TestShellQuote(t *testing.T) {
	for _, s := range []string{"plain", "a b", "it's", `$HOME`, "", "*", "a\nb", `\`, "x=1;y", "-n"} {
		out, err := execOutput("/bin/sh", "-c", "printf '%s' "+shellQuote(s))
		if err != nil || out != s {
			t.Errorf("shellQuote(%q) = %s: shell read %q, %v", s, shellQuote(s), out, err)
		}
	}
}

func TestRunLaunchFailures(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "data.txt")
	os.WriteFile(notExec, []byte("x"), 0o644)
	badPkg := filepath.Join(dir, "bad")
	os.Mkdir(badPkg, 0o755)
	os.WriteFile(filepath.Join(badPkg, "go.mod"), []byte("module bad\n\ngo 1.24\n"), 0o644)
	os.WriteFile(filepath.Join(badPkg, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644)
	cases := []struct {
		name string
		cfg  Config
		code int
		msg  string
	}{
		{"no program", Config{NP: 1}, ExitUsage, "no program"},
		{"negative np", Config{NP: -1, Program: "/bin/true"}, ExitUsage, "-1"},
		{"unknown transport", Config{NP: 1, Program: "/bin/true", Transport: "carrier-pigeon"}, ExitUsage, "carrier-pigeon"},
		{"bad -x", Config{NP: 1, Program: "/bin/true", Env: []string{"=x"}}, ExitUsage, "-x"},
		{"not found", Config{NP: 2, Program: "/nonexistent/prog"}, ExitNotFound, "not found"},
		{"not found in PATH", Config{NP: 2, Program: "gompi-no-such-program"}, ExitNotFound, "not found"},
		{"not executable", Config{NP: 2, Program: notExec}, ExitNotRunnable, "not an executable"},
		{"build failure", Config{NP: 2, Program: badPkg}, ExitLaunchFailed, "undefinedThing"},
		{"unreachable host", Config{NP: 1, Program: "/bin/true", Hosts: []Host{{"no-such-host.invalid", 1}}}, ExitLaunchFailed, "--bootstrap-addr"},
	}
	for _, tc := range cases {
		tc.cfg.Stdout, tc.cfg.Stderr = &syncBuffer{}, &syncBuffer{}
		res, err := Run(context.Background(), tc.cfg)
		if err == nil || res.ExitCode != tc.code || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: ExitCode %d, err %v; want %d and an error mentioning %q", tc.name, res.ExitCode, err, tc.code, tc.msg)
		}
	}
}

// A Go package directory is built, with the build tags given.
func TestRunBuildsPackage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.24\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "main.go"), []byte(`package main

import ("fmt"; "os")

func main() { fmt.Println("hello from", os.Getenv("GOMPI_RANK"), tagged) }
`), 0o644)
	os.WriteFile(filepath.Join(dir, "plain.go"), []byte("//go:build !special\n\npackage main\n\nconst tagged = \"plain\"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "special.go"), []byte("//go:build special\n\npackage main\n\nconst tagged = \"special\"\n"), 0o644)
	for _, tc := range []struct {
		tags []string
		want string
	}{{nil, "plain"}, {[]string{"special"}, "special"}} {
		var out syncBuffer
		res, err := Run(context.Background(), Config{NP: 2, Program: dir, BuildTags: tc.tags, Stdout: &out, Stderr: &syncBuffer{}})
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("tags %v: Run: %v, %+v", tc.tags, err, res)
		}
		want := []string{"hello from 0 " + tc.want, "hello from 1 " + tc.want}
		if got := sortedLines(out.String()); !slicesEqual(got, want) {
			t.Errorf("tags %v: output %q, want %q", tc.tags, got, want)
		}
	}
}

func TestRunTimestampOutput(t *testing.T) {
	_, out, _ := runScript(t, 1, `echo hi`, Config{TimestampOutput: true, TagOutput: true})
	if !regexp.MustCompile(`^\[0\] \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6} hi\n$`).MatchString(out) {
		t.Fatalf("output %q, want [0] TIMESTAMP hi", out)
	}
}

func TestRankExit(t *testing.T) {
	cases := []struct {
		e    RankExit
		code int
		how  string
	}{
		{RankExit{Status: 0}, 0, "exited with status 0"},
		{RankExit{Status: 3}, 3, "exited with status 3"},
		{RankExit{Status: -1, Signal: syscall.SIGKILL}, 137, "was killed by signal 9 (SIGKILL)"},
		{RankExit{Status: -1, Signal: syscall.SIGSEGV}, 139, "was killed by signal 11 (SIGSEGV)"},
	}
	for _, tc := range cases {
		if tc.e.Code() != tc.code || tc.e.How() != tc.how || tc.e.Failed() != (tc.code != 0) {
			t.Errorf("%+v: Code %d How %q Failed %v; want %d %q", tc.e, tc.e.Code(), tc.e.How(), tc.e.Failed(), tc.code, tc.how)
		}
	}
}

func execOutput(name string, args ...string) (string, error) {
	b, err := exec.Command(name, args...).Output()
	return string(b), err
}

// Among ranks failing together, a rank killed by a signal is named rather than one that exited
// with a status (typically a rank reacting to its dead peer), even when it died second.
func TestRunNamesKilledRankAmongFailures(t *testing.T) {
	dir := t.TempDir()
	script := `case $GOMPI_RANK in
	1) touch ` + dir + `/exited; exit 5;;
	2) while [ ! -e ` + dir + `/exited ]; do sleep 0.01; done; kill -KILL $$;;
	*) exec sleep 60;;
	esac`
	res, _, errOut := runScript(t, 3, script, Config{})
	if res.ExitCode != 137 || !strings.HasPrefix(res.Reason, "rank 2 was killed by signal 9") {
		t.Fatalf("ExitCode %d, reason %q; want 137 naming rank 2 (stderr %q)", res.ExitCode, res.Reason, errOut)
	}
	if !strings.Contains(errOut, "rank 1 exited with status 5 too") {
		t.Errorf("stderr %q does not mention rank 1's failure", errOut)
	}
	if res.Ranks[1].Stopped || res.Ranks[2].Stopped || !res.Ranks[0].Stopped {
		t.Errorf("Stopped flags: %+v; want only rank 0 stopped", res.Ranks)
	}
}

func TestCulprit(t *testing.T) {
	exited := &proc{exit: RankExit{Rank: 1, Status: 1}}
	killed := &proc{exit: RankExit{Rank: 2, Status: -1, Signal: syscall.SIGSEGV}}
	exited2 := &proc{exit: RankExit{Rank: 3, Status: 4}}
	cases := []struct {
		failed []*proc
		want   *proc
	}{
		{[]*proc{exited}, exited},
		{[]*proc{exited, killed}, killed},
		{[]*proc{killed, exited}, killed},
		{[]*proc{exited2, exited}, exited2},
	}
	for i, tc := range cases {
		if got := culprit(tc.failed); got != tc.want {
			t.Errorf("case %d: culprit = rank %d, want rank %d", i, got.exit.Rank, tc.want.exit.Rank)
		}
	}
}

// The job secret reaches a remote rank on its standard input, never on a command line:
// --verbose shows each rank's command, and neither it nor the agent's arguments hold the
// secret, yet local and remote ranks have the same one.
func TestRunVerboseHidesSecret(t *testing.T) {
	dir := t.TempDir()
	agent, args := filepath.Join(dir, "agent"), filepath.Join(dir, "args")
	script := "#!/bin/sh\nshift\necho \"$*\" >> " + args + "\nexec /bin/sh -c \"$*\"\n"
	if err := os.WriteFile(agent, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res, out, errOut := runScript(t, 2, `echo "$GOMPI_RANK $GOMPI_SECRET"`, Config{Verbose: true,
		Hosts: []Host{{"localhost", 1}, {"nodeA", 1}}, LaunchAgent: []string{agent}, BootstrapAddr: "127.0.0.1"})
	if res.ExitCode != 0 {
		t.Fatalf("ExitCode %d, stderr %q", res.ExitCode, errOut)
	}
	lines := sortedLines(out)
	if len(lines) != 2 || len(lines[0]) != 2+64 || lines[1] != "1"+lines[0][1:] {
		t.Fatalf("ranks printed %q, want the same 64-digit secret from rank 0 (local) and 1 (remote)", lines)
	}
	secret := lines[0][2:]
	if !strings.Contains(errOut, "rank 1 on nodeA: pid ") {
		t.Errorf("verbose output %q lacks rank 1's command", errOut)
	}
	b, err := os.ReadFile(args)
	if err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"verbose output": errOut, "the agent's arguments": string(b)} {
		if strings.Contains(s, secret) || strings.Contains(s, "GOMPI_SECRET=") {
			t.Errorf("%s show the secret: %q", what, s)
		}
	}
}

// A remote rank 0 gets gompirun's standard input whole, after the secret line it does not see;
// an agent that does not pass standard input through makes the rank fail with a clear message.
func TestRunRemoteStdin(t *testing.T) {
	dir := t.TempDir()
	agent := filepath.Join(dir, "agent")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\nshift\nexec /bin/sh -c \"$*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	input := "first line\nsecond line, no newline"
	res, out, errOut := runScript(t, 2, `if [ "$GOMPI_RANK" = 0 ]; then cat; fi`, Config{
		Hosts: []Host{{"nodeA", 1}, {"localhost", 1}}, LaunchAgent: []string{agent}, BootstrapAddr: "127.0.0.1",
		Stdin: strings.NewReader(input)})
	if res.ExitCode != 0 || out != input+"\n" {
		t.Fatalf("ExitCode %d, output %q (stderr %q); want 0 and %q", res.ExitCode, out, errOut, input+"\n")
	}

	closed := filepath.Join(dir, "closed-agent")
	if err := os.WriteFile(closed, []byte("#!/bin/sh\nshift\nexec /bin/sh -c \"$*\" </dev/null\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, _, errOut = runScript(t, 1, `echo ran`, Config{
		Hosts: []Host{{"nodeA", 1}}, LaunchAgent: []string{closed}, BootstrapAddr: "127.0.0.1"})
	if res.ExitCode != 125 || !strings.Contains(errOut, "no job secret on standard input") {
		t.Errorf("agent without stdin: ExitCode %d, stderr %q; want 125 and a message about the secret", res.ExitCode, errOut)
	}
}
