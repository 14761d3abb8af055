package launcher

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/waits"
)

// job is what every rank of one job shares.
type job struct {
	id        string // GOMPI_JOB_ID
	secret    string // GOMPI_SECRET, hex
	bootstrap string // GOMPI_BOOTSTRAP, host:port
	transport string // GOMPI_TRANSPORT
	bind      string // GOMPI_BIND
	localHost string // GOMPI_HOST of every rank in a single-host job; "" in a multi-host job
	iface     string // GOMPI_IFACE (--iface)
	size      int
	verbose   bool   // GOMPI_VERBOSE=1
	terminal  bool   // GOMPI_STDERR_TERMINAL=1
	hangDir   string // GOMPI_HANG_DIR of local ranks (hang.go)
}

// gompiEnv returns the DESIGN.md §5 variables of the rank in slot s.
func (j *job) gompiEnv(s Slot) []string {
	env := []string{
		bootstrap.EnvRank + "=" + strconv.Itoa(s.Rank),
		bootstrap.EnvSize + "=" + strconv.Itoa(j.size),
		bootstrap.EnvLocalRank + "=" + strconv.Itoa(s.LocalRank),
		bootstrap.EnvLocalSize + "=" + strconv.Itoa(s.LocalSize),
		bootstrap.EnvJobID + "=" + j.id,
		bootstrap.EnvAddr + "=" + j.bootstrap,
		bootstrap.EnvSecret + "=" + j.secret,
		bootstrap.EnvTransport + "=" + j.transport,
		bootstrap.EnvBind + "=" + j.bind,
	}
	// In a multi-host job each rank chooses its own address: the one of its interface that
	// routes to the bootstrap service, or that --iface names (bootstrap.ListenAddr). A host
	// name would not do: it may resolve to loopback (Debian maps its own name to 127.0.1.1).
	// A remote host given as an IP address (--host 10.0.0.2) is taken as the address its
	// ranks listen on, unless --iface says otherwise.
	switch {
	case j.localHost != "":
		env = append(env, bootstrap.EnvHost+"="+j.localHost)
	case !s.Local && j.iface == "" && net.ParseIP(s.Host) != nil:
		env = append(env, bootstrap.EnvHost+"="+s.Host)
	}
	if j.iface != "" {
		env = append(env, bootstrap.EnvIface+"="+j.iface)
	}
	if j.verbose {
		env = append(env, bootstrap.EnvVerbose+"=1")
	}
	if j.terminal {
		env = append(env, bootstrap.EnvStderrTerminal+"=1")
	}
	if j.hangDir != "" && s.Local {
		env = append(env, waits.EnvDir+"="+j.hangDir)
	}
	return env
}

// userEnv resolves -x entries: "NAME=VALUE" as is, "NAME" with the launcher's own value
// (skipped, with a note, when the launcher has none).
func userEnv(entries []string, note func(string)) ([]string, error) {
	var env []string
	for _, e := range entries {
		name, _, hasValue := strings.Cut(e, "=")
		if name == "" || strings.ContainsAny(name, " \t\n") {
			return nil, fmt.Errorf("launcher: -x %q: want NAME or NAME=VALUE", e)
		}
		if hasValue {
			env = append(env, e)
			continue
		}
		v, ok := os.LookupEnv(name)
		if !ok {
			note(fmt.Sprintf("-x %s: not set in gompirun's environment; not passed", name))
			continue
		}
		env = append(env, name+"="+v)
	}
	return env, nil
}

// localEnv is the environment of a local rank: the launcher's own, less any GOMPI_ variables
// (a gompirun started from a rank must not leak its parent's job), plus -x entries, plus the
// rank's GOMPI_ variables. Later entries win.
func localEnv(user, gompi []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOMPI_") {
			env = append(env, kv)
		}
	}
	env = append(env, user...)
	return append(env, gompi...)
}

// secretReader is the shell command through which a remote rank starts: it reads the job
// secret from the first line of standard input into GOMPI_SECRET, then becomes PROGRAM ($0)
// with its arguments. The secret thus never appears on a command line, where every user of
// either host could read it (/proc/PID/cmdline); the shell's read takes one byte at a time
// from a pipe, so the rest of standard input is left to PROGRAM.
const secretReader = `IFS= read -r GOMPI_SECRET || { echo "gompi: no job secret on standard input: the launch agent must pass standard input through" >&2; exit 125; }; export GOMPI_SECRET; exec "$0" "$@"`

// agentArgs is the command line that starts a remote rank through the launch agent:
//
//	AGENT... HOST env VAR=VALUE... /bin/sh -c SECRET-READER PROGRAM ARGS...
//
// env must not hold the secret: the launcher writes it on the agent's standard input
// (secretReader). The agent receives these as separate words, but like ssh it may join them
// with spaces and hand the result to a shell on HOST, so every word that a shell would change
// is single-quoted.
//
// An agent named srun (isSrun) runs its command's words as they are, with no shell between,
// and takes the host as an option, so its command line is instead
//
//	srun ... --overlap -N1 -n1 --export=ALL -w HOST env VAR=VALUE... /bin/sh -c SECRET-READER PROGRAM ARGS...
//
// with nothing quoted: one single-task step per rank, sharing the allocation's CPUs with the
// ranks already running (--overlap), with gompirun's environment as a local rank has it
// (--export=ALL, whatever SLURM_EXPORT_ENV an sbatch --export=NONE left behind). One srun per
// rank, rather than one for all, keeps what the launcher has for every other rank: its own
// process, exit status, output pipes and secret on standard input, and a stop that reaches it
// alone; the cost is one job step per rank (docs/SLURM.md has the measurement).
func agentArgs(agent []string, host string, env []string, program string, args []string) []string {
	out := append([]string{}, agent...)
	quote := shellQuote
	if isSrun(agent) {
		out = append(out, "--overlap", "-N1", "-n1", "--export=ALL", "-w", host, "env")
		quote = func(s string) string { return s }
	} else {
		out = append(out, host, "env")
	}
	for _, kv := range env {
		out = append(out, quote(kv))
	}
	out = append(out, "/bin/sh", "-c", quote(secretReader), quote(program))
	for _, a := range args {
		out = append(out, quote(a))
	}
	return out
}

// isSrun reports whether the launch agent is Slurm's srun (by its command's base name).
func isSrun(agent []string) bool {
	return len(agent) > 0 && filepath.Base(agent[0]) == "srun"
}

// shellQuote returns s unchanged when a POSIX shell would read it as one literal word, and
// single-quoted otherwise.
func shellQuote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_-+=/.,:@%", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
