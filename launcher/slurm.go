package launcher

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// SlurmAllocation is the Slurm allocation gompirun runs in (salloc, sbatch), read from the
// environment Slurm gives the allocation's shell (ReadSlurm). Set in Config.Slurm, it supplies
// the defaults of a job: one rank per task of the allocation, placed on its nodes by their
// task counts, and ranks on the other nodes started through srun. A SlurmAllocation is not
// modified after ReadSlurm returns it.
type SlurmAllocation struct {
	JobID string // SLURM_JOB_ID
	// Tasks is the number of tasks of the allocation: SLURM_NTASKS, or the sum of the nodes'
	// counts when Slurm does not say (salloc -N 2 without -n).
	Tasks int
	// Nodes are the allocation's nodes in Slurm's order, each with its tasks (or, inside a step,
	// its CPUs) as slots.
	Nodes []Host
	// LocalNode is the name of the node gompirun runs on, when it is one of Nodes; "" when it
	// runs elsewhere (salloc runs its command on the host where it was typed, which may be a
	// login node outside the allocation). Ranks placed there start directly, not through srun.
	LocalNode string
	// From names the variables the task count and node list came from, for --verbose.
	From string
}

// Slurm's variables that ReadSlurm reads.
const (
	slurmJobID        = "SLURM_JOB_ID"
	slurmNTasks       = "SLURM_NTASKS"
	slurmNodeList     = "SLURM_JOB_NODELIST"
	slurmNumNodes     = "SLURM_JOB_NUM_NODES"
	slurmTasksPerNode = "SLURM_TASKS_PER_NODE"
	slurmCPUsPerNode  = "SLURM_JOB_CPUS_PER_NODE"
	slurmStepID       = "SLURM_STEP_ID"
	slurmStepTasks    = "SLURM_STEP_NUM_TASKS"
	slurmNodeName     = "SLURMD_NODENAME"
)

// ReadSlurm reads the Slurm allocation from the environment through getenv (os.Getenv, or a
// map's lookup in tests). It returns nil, nil outside an allocation (no SLURM_JOB_ID).
//
// In the allocation's shell (salloc, an sbatch script) the tasks are SLURM_NTASKS and the
// nodes SLURM_JOB_NODELIST with SLURM_TASKS_PER_NODE ("2(x3),1"). Inside an srun step Slurm
// replaces SLURM_NTASKS and SLURM_TASKS_PER_NODE by the step's, so there the allocation's
// CPUs per node (SLURM_JOB_CPUS_PER_NODE) stand for its tasks; and a gompirun that is one of
// several tasks of a step (srun -n 4 gompirun ...) is refused, since each task would start
// a whole job. The node gompirun runs on is SLURMD_NODENAME when set (inside a step), else
// this host's name up to its first dot.
func ReadSlurm(getenv func(string) string) (*SlurmAllocation, error) {
	id := getenv(slurmJobID)
	if id == "" {
		return nil, nil
	}
	a := &SlurmAllocation{JobID: id}
	nodeList := getenv(slurmNodeList)
	if nodeList == "" {
		return nil, fmt.Errorf("launcher: Slurm job %s: %s is not set", id, slurmNodeList)
	}
	names, err := ExpandHostlist(nodeList)
	if err != nil {
		return nil, fmt.Errorf("launcher: Slurm job %s: %s: %w", id, slurmNodeList, err)
	}
	if s := getenv(slurmNumNodes); s != "" && s != strconv.Itoa(len(names)) {
		return nil, fmt.Errorf("launcher: Slurm job %s: %s=%s but %s=%q names %d nodes", id, slurmNumNodes, s, slurmNodeList, nodeList, len(names))
	}
	countsVar := slurmTasksPerNode
	inStep := getenv(slurmStepID) != ""
	if inStep {
		if s := getenv(slurmStepTasks); s != "" && s != "1" {
			return nil, fmt.Errorf("launcher: started as one of %s tasks of Slurm step %s.%s, where each would start a whole job: start gompirun once, in the allocation's shell (salloc, or the sbatch script), not under srun; or start the program itself with srun --mpi=pmi2 (docs/SLURM.md)",
				s, id, getenv(slurmStepID))
		}
		countsVar = slurmCPUsPerNode
	}
	spec := getenv(countsVar)
	if spec == "" {
		return nil, fmt.Errorf("launcher: Slurm job %s: %s is not set", id, countsVar)
	}
	counts, err := ExpandTasksPerNode(spec)
	if err != nil {
		return nil, fmt.Errorf("launcher: Slurm job %s: %s: %w", id, countsVar, err)
	}
	if len(counts) != len(names) {
		return nil, fmt.Errorf("launcher: Slurm job %s: %s=%q gives %d counts for the %d nodes of %s=%q",
			id, countsVar, spec, len(counts), len(names), slurmNodeList, nodeList)
	}
	for i, n := range names {
		a.Nodes = addHost(a.Nodes, Host{Name: n, Slots: counts[i]})
	}
	a.Tasks = TotalSlots(a.Nodes)
	a.From = fmt.Sprintf("%s=%s, %s=%s", slurmNodeList, nodeList, countsVar, spec)
	if s := getenv(slurmNTasks); s != "" && !inStep {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("launcher: Slurm job %s: %s=%q: want a positive integer", id, slurmNTasks, s)
		}
		a.Tasks = n
		a.From = fmt.Sprintf("%s=%s, %s", slurmNTasks, s, a.From)
	} else if inStep {
		a.From += " (inside step " + id + "." + getenv(slurmStepID) + ", whose own task counts replace the allocation's)"
	}
	me := getenv(slurmNodeName)
	if me == "" {
		h, _ := os.Hostname()
		me, _, _ = strings.Cut(h, ".")
	}
	for _, n := range a.Nodes {
		if short, _, _ := strings.Cut(n.Name, "."); short == me || n.Name == me {
			a.LocalNode = n.Name
		}
	}
	return a, nil
}

// describe says in one line what gompirun took from the allocation.
func (a *SlurmAllocation) describe() string {
	var nodes []string
	for _, n := range a.Nodes {
		s := n.Name + ":" + strconv.Itoa(n.Slots)
		if n.Name == a.LocalNode {
			s += " (this node)"
		}
		nodes = append(nodes, s)
	}
	where := "gompirun runs on none of them: every rank starts through the launch agent"
	if a.LocalNode != "" {
		where = "ranks on " + a.LocalNode + " start directly, the others through the launch agent"
	}
	return fmt.Sprintf("Slurm job %s: %d tasks on %s; %s (from %s)", a.JobID, a.Tasks, strings.Join(nodes, ", "), where, a.From)
}
