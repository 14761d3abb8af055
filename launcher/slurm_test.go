package launcher

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadSlurm(t *testing.T) {
	host, _ := os.Hostname()
	me, _, _ := strings.Cut(host, ".")
	cases := []struct {
		name string
		env  map[string]string
		want *SlurmAllocation // nil with err "": outside an allocation
		err  string           // a part of the error
	}{
		{"outside", map[string]string{"SLURM_NTASKS": "4"}, nil, ""},
		{"salloc -n 4, one node", map[string]string{
			"SLURM_JOB_ID": "12", "SLURM_NTASKS": "4", "SLURM_JOB_NODELIST": "vm", "SLURM_JOB_NUM_NODES": "1",
			"SLURM_TASKS_PER_NODE": "4", "SLURMD_NODENAME": "vm",
		}, &SlurmAllocation{JobID: "12", Tasks: 4, Nodes: []Host{{"vm", 4}}, LocalNode: "vm"}, ""},
		{"sbatch -n 7 on four nodes, run on the first", map[string]string{
			"SLURM_JOB_ID": "3", "SLURM_NTASKS": "7", "SLURM_JOB_NODELIST": "node[01-03,07]", "SLURM_JOB_NUM_NODES": "4",
			"SLURM_TASKS_PER_NODE": "2(x3),1", "SLURMD_NODENAME": "node01",
		}, &SlurmAllocation{JobID: "3", Tasks: 7, Nodes: []Host{{"node01", 2}, {"node02", 2}, {"node03", 2}, {"node07", 1}}, LocalNode: "node01"}, ""},
		{"salloc -N 2 without -n, from a login node", map[string]string{
			"SLURM_JOB_ID": "4", "SLURM_JOB_NODELIST": "a[1-2]-ib", "SLURM_TASKS_PER_NODE": "2(x2)", "SLURMD_NODENAME": "login",
		}, &SlurmAllocation{JobID: "4", Tasks: 4, Nodes: []Host{{"a1-ib", 2}, {"a2-ib", 2}}}, ""},
		{"this host by its name", map[string]string{
			"SLURM_JOB_ID": "5", "SLURM_NTASKS": "2", "SLURM_JOB_NODELIST": "other," + me, "SLURM_TASKS_PER_NODE": "1(x2)",
		}, &SlurmAllocation{JobID: "5", Tasks: 2, Nodes: []Host{{"other", 1}, {me, 1}}, LocalNode: me}, ""},
		{"inside a one-task step: CPUs stand for tasks", map[string]string{
			"SLURM_JOB_ID": "6", "SLURM_NTASKS": "1", "SLURM_JOB_NODELIST": "n[1-2]", "SLURM_TASKS_PER_NODE": "1",
			"SLURM_JOB_CPUS_PER_NODE": "8(x2)", "SLURM_STEP_ID": "0", "SLURM_STEP_NUM_TASKS": "1", "SLURMD_NODENAME": "n1",
		}, &SlurmAllocation{JobID: "6", Tasks: 16, Nodes: []Host{{"n1", 8}, {"n2", 8}}, LocalNode: "n1"}, ""},
		{"one of several step tasks", map[string]string{
			"SLURM_JOB_ID": "8", "SLURM_JOB_NODELIST": "vm", "SLURM_TASKS_PER_NODE": "4", "SLURM_STEP_ID": "2", "SLURM_STEP_NUM_TASKS": "4",
		}, nil, "one of 4 tasks of Slurm step 8.2"},
		{"no node list", map[string]string{"SLURM_JOB_ID": "9", "SLURM_NTASKS": "4"}, nil, "SLURM_JOB_NODELIST is not set"},
		{"bad node list", map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "n[1-", "SLURM_TASKS_PER_NODE": "1"}, nil, `"n[1-"`},
		{"node count disagrees", map[string]string{
			"SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "n[1-2]", "SLURM_JOB_NUM_NODES": "3", "SLURM_TASKS_PER_NODE": "1(x2)",
		}, nil, "SLURM_JOB_NUM_NODES=3"},
		{"counts disagree", map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "n[1-2]", "SLURM_TASKS_PER_NODE": "2"}, nil,
			`gives 1 counts for the 2 nodes`},
		{"bad ntasks", map[string]string{"SLURM_JOB_ID": "9", "SLURM_JOB_NODELIST": "n1", "SLURM_TASKS_PER_NODE": "2", "SLURM_NTASKS": "x"}, nil,
			`SLURM_NTASKS="x"`},
	}
	for _, tc := range cases {
		got, err := ReadSlurm(func(k string) string { return tc.env[k] })
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: ReadSlurm = %+v, %v; want an error with %q", tc.name, got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: ReadSlurm: %v", tc.name, err)
			continue
		}
		if got != nil {
			got.From = ""
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ReadSlurm = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// fakeSrun writes a stand-in for srun: it checks that it was given one task on one node with
// gompirun's environment, logs the node, and runs the rest of its words as they are, with no
// shell between (as srun does).
func fakeSrun(t *testing.T) (agent, log string) {
	t.Helper()
	dir := t.TempDir()
	log = filepath.Join(dir, "srun.log")
	agent = filepath.Join(dir, "srun")
	script := `#!/bin/sh
[ "$1 $2 $3 $4 $5" = "--overlap -N1 -n1 --export=ALL -w" ] || { echo "fake srun: unexpected options: $*" >&2; exit 99; }
echo "$6" >>` + log + `
shift 6
exec "$@"
`
	if err := os.WriteFile(agent, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return agent, log
}

// In an allocation without -n or hosts, the job takes the allocation's tasks and nodes: the
// ranks on the node gompirun runs on start directly, the others through srun, whose words
// (arguments with spaces and quotes) reach the rank unchanged.
func TestRunInSlurmAllocation(t *testing.T) {
	agent, log := fakeSrun(t)
	res, out, errOut := runScript(t, 0,
		`printf '%s|' "$GOMPI_RANK" "$GOMPI_SIZE" "$GOMPI_LOCAL_RANK" "$GOMPI_LOCAL_SIZE" "$X" "$@"; echo`,
		Config{
			Slurm: &SlurmAllocation{JobID: "7", Tasks: 5, LocalNode: "here",
				Nodes: []Host{{"nodeA", 2}, {"here", 2}, {"nodeB", 2}}},
			LaunchAgent:   []string{agent},
			BootstrapAddr: "127.0.0.1",
			Env:           []string{"X=it's $HOME"},
			Args:          []string{"a b", `"q"`, ""},
			Verbose:       true,
		})
	if res.ExitCode != 0 {
		t.Fatalf("ExitCode = %d, stderr %q", res.ExitCode, errOut)
	}
	tail := `it's $HOME|a b|"q"||`
	want := []string{"0|5|0|2|" + tail, "1|5|1|2|" + tail, "2|5|0|2|" + tail, "3|5|1|2|" + tail, "4|5|0|1|" + tail}
	if got := sortedLines(out); !slicesEqual(got, want) {
		t.Fatalf("output\n%q\nwant\n%q", got, want)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedLines(string(b)); !slicesEqual(got, []string{"nodeA", "nodeA", "nodeB"}) {
		t.Errorf("srun started ranks on %q, want nodeA twice and nodeB once (ranks on here start directly)", got)
	}
	if !strings.Contains(errOut, "gompirun: Slurm job 7: 5 tasks on nodeA:2, here:2 (this node), nodeB:2") {
		t.Errorf("--verbose does not say it took the allocation: %q", errOut)
	}
}

// An explicit NP or host list wins over the allocation's.
func TestSlurmDefaultsYield(t *testing.T) {
	alloc := &SlurmAllocation{JobID: "7", Tasks: 5, LocalNode: "here", Nodes: []Host{{"nodeA", 2}, {"here", 3}}}
	cases := []struct {
		cfg    Config
		np     int
		hosts  []Host
		agent  string
		locals []string
	}{
		{Config{}, 5, alloc.Nodes, "srun", []string{"here"}},
		{Config{NP: 2}, 2, alloc.Nodes, "srun", []string{"here"}},
		{Config{Hosts: []Host{{"x", 3}}}, 3, []Host{{"x", 3}}, "srun", nil},
		{Config{LaunchAgent: []string{"ssh", "-p", "2"}}, 5, alloc.Nodes, "ssh", []string{"here"}},
	}
	for i, tc := range cases {
		tc.cfg.Program, tc.cfg.Slurm = "/bin/true", alloc
		got, err := tc.cfg.withDefaults()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if got.NP != tc.np || !reflect.DeepEqual(got.Hosts, tc.hosts) || got.LaunchAgent[0] != tc.agent || !reflect.DeepEqual(got.localNames, tc.locals) {
			t.Errorf("case %d: NP %d, hosts %v, agent %v, local %v; want %d, %v, %s, %v", i, got.NP, got.Hosts, got.LaunchAgent, got.localNames, tc.np, tc.hosts, tc.agent, tc.locals)
		}
	}
}

// gompirun --mpi in an allocation gives mpirun no -n of its own: mpirun reads the allocation.
func TestMPIRunArgsInAllocation(t *testing.T) {
	cfg := Config{Program: "p", Slurm: &SlurmAllocation{JobID: "1", Tasks: 4, Nodes: []Host{{"vm", 4}}}}
	for _, tc := range []struct {
		np   int
		want string
	}{{0, "--oversubscribe p"}, {3, "--oversubscribe -n 3 p"}} {
		c := cfg
		c.NP = tc.np
		c, _, err := mpiDefaults(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(mpirunArgs(c, false, "p"), " "); got != tc.want {
			t.Errorf("-n %d: mpirun %s, want %s", tc.np, got, tc.want)
		}
	}
}
