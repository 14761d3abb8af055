package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// nsHosts are the two test hosts of netns.sh, two ranks each.
var nsHosts = []string{"10.77.0.1", "10.77.0.2"}

// setupNetns makes the two network namespaces of testdata/netns.sh for this test and removes
// them when it ends, failed or not. It skips the test, saying why, where the machine does not
// allow namespaces. It returns the environment the launch agent needs.
func setupNetns(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("skipping the network-namespace test: no `ip` command (install iproute2: apt-get install -y iproute2)")
	}
	ns1 := fmt.Sprintf("gompi-test-%d-a", os.Getpid())
	ns2 := fmt.Sprintf("gompi-test-%d-b", os.Getpid())
	script, _ := filepath.Abs("testdata/netns.sh")
	down := func() { exec.Command("/bin/sh", script, "down", ns1, ns2).Run() }
	down() // leftovers of a crashed run with the same pid
	if out, err := exec.Command("/bin/sh", script, "up", ns1, ns2).CombinedOutput(); err != nil {
		down()
		t.Skipf("skipping the network-namespace test: cannot create namespaces here (needs root, or CAP_SYS_ADMIN and CAP_NET_ADMIN): %v: %s",
			err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(down)
	return []string{"GOMPI_TEST_NS1=" + ns1, "GOMPI_TEST_NS2=" + ns2}
}

// nsProgram is a rank program for the namespace test and what rank r on host h prints.
type nsProgram struct {
	name string
	args []string
	want func(r int, host string) string
}

// nsRankProgram is the program of acceptance item 4: a 4-rank Allreduce (testdata/allreduce,
// over comm and collectives with the TCP transport) that checks its results.
func nsRankProgram(t *testing.T) nsProgram {
	t.Helper()
	return nsProgram{name: buildTestdata(t, "allreduce"), args: []string{"20", "100000"},
		want: func(r int, host string) string {
			return fmt.Sprintf("rank %d/4 allreduce ok iters=20 host=%s", r, host)
		}}
}

// TestNamespaces runs jobs across two network namespaces joined by a veth pair: ranks 0-1 on
// 10.77.0.1, ranks 2-3 on 10.77.0.2, started by a launch agent that enters the namespace, with
// gompirun itself in the first one. First a shell rank shows each rank runs where it should,
// then testdata/mesh connects every pair across the interfaces through the bootstrap service,
// then the Allreduce program runs.
func TestNamespaces(t *testing.T) {
	env := setupNetns(t)
	agent, _ := filepath.Abs("testdata/netns-agent.sh")
	ns1 := strings.TrimPrefix(env[0], "GOMPI_TEST_NS1=")
	run := func(args ...string) result {
		t.Helper()
		args = append([]string{"netns", "exec", ns1, gompirunBin, "--tag-output",
			"--host", nsHosts[0] + ":2," + nsHosts[1] + ":2", "--launch-agent", "/bin/sh " + agent}, args...)
		return runCmd(t, env, "ip", args...)
	}
	hostOf := func(r int) string { return nsHosts[r/2] }

	// Each rank runs in its host's namespace, listens there, and reaches the bootstrap service
	// in the first namespace.
	res := run("/bin/sh", "-c", `echo "$GOMPI_HOST $GOMPI_BOOTSTRAP $(ip -o -4 addr show scope global | awk '{print $4}')"`)
	if res.code != 0 {
		t.Fatalf("shell ranks: exit code %d, stderr %q", res.code, res.stderr)
	}
	for r := range 4 {
		pat := fmt.Sprintf(`(?m)^\[%d\] %s 10\.77\.0\.1:\d+ %s/24$`, r, regexp.QuoteMeta(hostOf(r)), regexp.QuoteMeta(hostOf(r)))
		if !regexp.MustCompile(pat).MatchString(res.stdout) {
			t.Errorf("rank %d: output %q lacks a line matching %s", r, res.stdout, pat)
		}
	}

	p0 := nsRankProgram(t)

	// Bootstrap + a TCP connection between every pair of ranks, across the veth pair.
	res = run(meshBin)
	if res.code != 0 {
		t.Fatalf("mesh: exit code %d, stderr %q", res.code, res.stderr)
	}
	for r := range 4 {
		if want := fmt.Sprintf("[%d] rank %d/4 sum=6 host=%s\n", r, r, hostOf(r)); !strings.Contains(res.stdout, want) {
			t.Errorf("mesh: output %q lacks %q", res.stdout, want)
		}
	}

	// Hosts by name: no rank is given an address, and each listens on the one of its
	// interface that routes to the bootstrap service (here the veth, not loopback).
	named := runCmd(t, env, "ip", "netns", "exec", ns1, gompirunBin, "--tag-output", "--host", "hosta:2,hostb:2",
		"--bootstrap-addr", nsHosts[0], "--launch-agent", "/bin/sh "+agent, meshBin)
	if named.code != 0 {
		t.Fatalf("hosts by name: exit code %d, stderr %q", named.code, named.stderr)
	}
	for r := range 4 {
		if want := fmt.Sprintf("[%d] rank %d/4 sum=6 host=%s\n", r, r, hostOf(r)); !strings.Contains(named.stdout, want) {
			t.Errorf("hosts by name: output %q lacks %q", named.stdout, want)
		}
	}

	// --iface: no rank is given its address (hosts by IP are, without --iface); each picks
	// the one of its interface in the block, and the transports connect there.
	iface := run(append([]string{"--iface", "10.77.0.0/24", p0.name}, p0.args...)...)
	if iface.code != 0 {
		t.Fatalf("--iface 10.77.0.0/24: exit code %d, stderr %q", iface.code, iface.stderr)
	}
	for r := range 4 {
		if want := fmt.Sprintf("[%d] %s\n", r, p0.want(r, hostOf(r))); !strings.Contains(iface.stdout, want) {
			t.Errorf("--iface 10.77.0.0/24: output %q lacks %q", iface.stdout, want)
		}
	}
	// A block no interface is in: the ranks say so, naming the block and what they found.
	iface = run(append([]string{"--iface", "10.99.0.0/16", "--bootstrap-addr", nsHosts[0], p0.name}, p0.args...)...)
	if iface.code == 0 || !strings.Contains(iface.stderr, `no usable address on the interfaces that --iface "10.99.0.0/16" allows`) ||
		!strings.Contains(iface.stderr, "10.77.0.") {
		t.Errorf("--iface 10.99.0.0/16: exit code %d, stderr %q; want a failure naming the block and the interfaces", iface.code, iface.stderr)
	}

	// The conformance suite on a mixed job: shared memory between the two ranks of a host,
	// TCP between hosts, in one engine.
	res = run("--verbose", rankTestBin, "-test.run", "TestConformance")
	if res.code != 0 {
		t.Fatalf("conformance suite: exit code %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for r := range 4 {
		if !strings.Contains(res.stdout, fmt.Sprintf("[%d] PASS\n", r)) {
			t.Errorf("conformance suite: rank %d did not pass; stdout:\n%s", r, res.stdout)
		}
		mate, others := r^1, "2-3"
		if r >= 2 {
			others = "0-1"
		}
		want := fmt.Sprintf("gompi: rank %d: placement: ", r)
		ways := fmt.Sprintf("shm to ranks %d (large messages through the rings), tcp to ranks %s", mate, others)
		if !regexp.MustCompile(regexp.QuoteMeta(want) + `.*` + regexp.QuoteMeta(ways)).MatchString(res.stderr) {
			t.Errorf("rank %d does not report %q; stderr:\n%s", r, ways, res.stderr)
		}
	}

	// Acceptance 4: the 4-rank Allreduce.
	p := p0
	res = run(append([]string{p.name}, p.args...)...)
	if res.code != 0 {
		t.Fatalf("%s: exit code %d, stderr %q", p.name, res.code, res.stderr)
	}
	for r := range 4 {
		if want := fmt.Sprintf("[%d] %s\n", r, p.want(r, hostOf(r))); !strings.Contains(res.stdout, want) {
			t.Errorf("%s: output %q lacks %q", p.name, res.stdout, want)
		}
	}
}

// TestNamespacesNodeAware runs the collectives across the two namespaces with uneven hosts,
// three ranks on the first and two on the second: the node-aware algorithms (a phase over
// shared memory within each host, one over TCP between the hosts' leaders) must give the
// serial results for every root and size (testdata/hier checks them), and Algorithm must
// report them.
func TestNamespacesNodeAware(t *testing.T) {
	env := setupNetns(t)
	agent, _ := filepath.Abs("testdata/netns-agent.sh")
	ns1 := strings.TrimPrefix(env[0], "GOMPI_TEST_NS1=")
	bin := buildTestdata(t, "hier")
	for _, hier := range []string{"", "off"} {
		res := runCmd(t, append(env, "GOMPI_COLL_HIER="+hier), "ip", "netns", "exec", ns1, gompirunBin,
			"--host", nsHosts[0]+":3,"+nsHosts[1]+":2", "--launch-agent", "/bin/sh "+agent, bin)
		if res.code != 0 {
			t.Fatalf("GOMPI_COLL_HIER=%q: exit code %d\nstdout:\n%s\nstderr:\n%s", hier, res.code, res.stdout, res.stderr)
		}
		alg := "node-aware"
		if hier == "off" {
			alg = "recursive-doubling"
		}
		for r := range 5 {
			host := nsHosts[0]
			if r >= 3 {
				host = nsHosts[1]
			}
			want := fmt.Sprintf("rank %d/5 collectives ok host=%s allreduce=%s ", r, host, alg)
			if !strings.Contains(res.stdout, want) {
				t.Errorf("GOMPI_COLL_HIER=%q: output lacks %q:\n%s", hier, want, res.stdout)
			}
		}
	}
}
