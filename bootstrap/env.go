package bootstrap

import (
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"time"
)

// Env is the environment contract of a rank started by gompirun (the Env* variables), read
// and checked in one place: comm.Init reads it, placement decides from it, and the transports
// are configured from it. The launcher writes these variables (package launcher).
type Env struct {
	Rank, Size           int
	LocalRank, LocalSize int    // this rank among the ranks gompirun started on the same host
	JobID                string // unique id of the job
	Addr                 string // the bootstrap service, host:port (empty for a one-rank job)
	Secret               []byte // the job secret, decoded from hex
	Host                 string // the address to listen on for TCP peers ("": see ListenAddr)
	Iface                string // EnvIface: the interfaces a rank of a multi-host job may listen on
	// Transport says how ranks talk: "auto" (the default: shared memory with ranks on the same
	// host, TCP with the others), "shm" (shared memory only: every rank must share the host)
	// or "tcp" (TCP for every pair).
	Transport string
	Bind      string // "core" (default) or "none", see EnvBind
	// SpinWait, when set, overrides how long a waiting rank polls before it parks
	// (EnvSpinWait); nil leaves the decision to placement.
	SpinWait *time.Duration
	// Wait (EnvWait) forces how a waiting rank polls: "spin" (keeps its core), "yield"
	// (sched_yield between tries) or "park" (at once); "" lets placement choose.
	Wait    string
	Verbose bool // EnvVerbose: say at startup how the rank was placed and which transports it uses
	// CMA (EnvCMA=1) makes the shared-memory transport copy large payloads once, straight
	// from the sender's memory (process_vm_readv), rather than through its rings.
	CMA bool
}

// More variables a rank may receive. They are not part of the launcher's contract proper:
// EnvSpinWait is for users (gompirun -x), EnvVerbose is set by gompirun --verbose.
const (
	EnvSpinWait = "GOMPI_SPIN_WAIT" // a Go duration: how long a waiting rank polls before parking ("0": park at once)
	EnvWait     = "GOMPI_WAIT"      // spin, yield or park: how a waiting rank polls, instead of placement's choice
	EnvVerbose  = "GOMPI_VERBOSE"   // "1": report placement and transports on standard error at startup
	EnvCMA      = "GOMPI_SHM_CMA"   // "1": large messages on shared memory copied once from the sender's memory (default "0": through the rings)
	// EnvStderrTerminal is "1" when gompirun's standard error is a terminal that a rank's
	// self-redrawing line (a progress bar) reaches piece by piece: the rank's own standard
	// error is a pipe to gompirun, so it cannot tell by itself.
	EnvStderrTerminal = "GOMPI_STDERR_TERMINAL"
)

// Transports are the values EnvTransport may take; the first is the default.
var Transports = []string{"auto", "shm", "tcp"}

// ListenAddr is the address this rank listens on for TCP peers and advertises, and its
// interface's name: see the function ListenAddr.
func (e *Env) ListenAddr() (addr, iface string, err error) {
	return ListenAddr(e.Host, e.Iface, e.Addr)
}

// Launched reports whether the process was started by gompirun (EnvRank is set).
func Launched() bool { return os.Getenv(EnvRank) != "" }

// ReadEnv reads the environment contract of a rank started by gompirun. Every error names the
// variable and its value.
func ReadEnv() (*Env, error) {
	return parseEnv(os.Getenv)
}

// ParseEnv is ReadEnv over any lookup function: comm.Init passes one that answers the
// launcher's variables itself when it joins a job started by another launcher (through PMI).
func ParseEnv(get func(string) string) (*Env, error) { return parseEnv(get) }

// parseEnv is ReadEnv over any lookup function (tests pass a map's).
func parseEnv(get func(string) string) (*Env, error) {
	e := &Env{LocalSize: 1}
	need := func(name string) (string, error) {
		v := get(name)
		if v == "" {
			return "", fmt.Errorf("bootstrap: environment variable %s is not set (not started by gompirun?)", name)
		}
		return v, nil
	}
	count := func(name string, dst *int, min int) error {
		s, err := need(name)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < min {
			return fmt.Errorf("bootstrap: %s=%q: want an integer of at least %d", name, s, min)
		}
		*dst = n
		return nil
	}
	if err := count(EnvRank, &e.Rank, 0); err != nil {
		return nil, err
	}
	if err := count(EnvSize, &e.Size, 1); err != nil {
		return nil, err
	}
	if e.Rank >= e.Size {
		return nil, fmt.Errorf("bootstrap: %s=%d is not below %s=%d", EnvRank, e.Rank, EnvSize, e.Size)
	}
	if get(EnvLocalSize) != "" || get(EnvLocalRank) != "" {
		if err := count(EnvLocalSize, &e.LocalSize, 1); err != nil {
			return nil, err
		}
		if err := count(EnvLocalRank, &e.LocalRank, 0); err != nil {
			return nil, err
		}
		if e.LocalRank >= e.LocalSize || e.LocalSize > e.Size {
			return nil, fmt.Errorf("bootstrap: %s=%d, %s=%d do not fit a job of %d ranks",
				EnvLocalRank, e.LocalRank, EnvLocalSize, e.LocalSize, e.Size)
		}
	}
	var err error
	if e.JobID, err = need(EnvJobID); err != nil {
		return nil, err
	}
	if e.Secret, err = decodeSecret(get(EnvSecret)); err != nil {
		return nil, err
	}
	if e.Size > 1 {
		if e.Addr, err = need(EnvAddr); err != nil {
			return nil, err
		}
	}
	e.Host = get(EnvHost)
	if e.Iface = get(EnvIface); e.Iface != "" {
		if _, err := ParseIfaceSpec(e.Iface); err != nil {
			return nil, fmt.Errorf("bootstrap: %s: %w", EnvIface, err)
		}
	}
	switch e.Transport = get(EnvTransport); e.Transport {
	case "":
		e.Transport = Transports[0]
	case "auto", "shm", "tcp":
	default:
		return nil, fmt.Errorf("bootstrap: %s=%q: want one of %v", EnvTransport, e.Transport, Transports)
	}
	switch e.Bind = get(EnvBind); e.Bind {
	case "":
		e.Bind = "core"
	case "core", "none":
	default:
		return nil, fmt.Errorf("bootstrap: %s=%q: want core or none", EnvBind, e.Bind)
	}
	if s := get(EnvSpinWait); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("bootstrap: %s=%q is not a duration such as 50us or 0", EnvSpinWait, s)
		}
		e.SpinWait = &d
	}
	switch e.Wait = get(EnvWait); e.Wait {
	case "", "spin", "yield", "park":
	default:
		return nil, fmt.Errorf("bootstrap: %s=%q: want spin, yield or park", EnvWait, e.Wait)
	}
	e.Verbose = get(EnvVerbose) == "1"
	switch c := get(EnvCMA); c {
	case "", "0":
	case "1":
		e.CMA = true
	default:
		return nil, fmt.Errorf("bootstrap: %s=%q: want 0 or 1", EnvCMA, c)
	}
	return e, nil
}

// SecretFromEnv returns the job secret a rank was started with: the bytes whose hex encoding
// gompirun put in GOMPI_SECRET. gompirun's Server was created with these same bytes, so they
// are what Dial and the transports' handshakes take.
func SecretFromEnv() ([]byte, error) { return decodeSecret(os.Getenv(EnvSecret)) }

// decodeSecret decodes the value of EnvSecret. Errors never print it.
func decodeSecret(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("bootstrap: %s is not set (not started by gompirun?)", EnvSecret)
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("bootstrap: %s is not a hex string", EnvSecret)
	}
	return b, nil
}
