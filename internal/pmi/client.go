package pmi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables a PMI launcher gives each process (Slurm's srun --mpi=pmi2, Hydra).
const (
	EnvFD    = "PMI_FD"    // descriptor of a socket connected to the PMI server
	EnvPort  = "PMI_PORT"  // host:port of the PMI server, when there is no PMI_FD (Hydra)
	EnvID    = "PMI_ID"    // the process's id for the PMI_PORT handshake (Hydra)
	EnvRank  = "PMI_RANK"  // rank of the process in the job
	EnvSize  = "PMI_SIZE"  // number of processes in the job
	EnvJobID = "PMI_JOBID" // the job's PMI-2 id (Slurm: <job>.<step>)
	// EnvVersion ("1" or "2") makes the client speak that version only; unset, it asks for
	// PMI-2 and falls back to PMI-1 if the server refuses.
	EnvVersion = "GOMPI_PMI_VERSION"
)

// MappingKey is the job attribute (PMI-2) or key (PMI-1) that holds the process mapping.
const MappingKey = "PMI_process_mapping"

// Limits of keys and values (PMI-1 get_maxes may lower them).
const (
	MaxKeyLen   = 64
	MaxValueLen = 1024
)

// Client is one process's connection to the PMI server of its job. Its methods are not safe
// for concurrent use: PMI is lock-step, one request and its answer at a time.
type Client struct {
	conn       io.ReadWriteCloser
	r          *bufio.Reader
	version    int
	rank, size int
	kvs        string // PMI-1 kvsname, PMI-2 job id
	maxKey     int
	maxVal     int
	done       bool // finalized, aborted or closed
}

// Config says who the process is, for New. Rank and Size are required for PMI-1 (PMI-2
// learns them from the server); JobID or ID identify the process to a PMI-2 server.
type Config struct {
	Version    int // 1 or 2; 0 asks for 2 and falls back to 1
	Rank, Size int // PMI_RANK and PMI_SIZE; -1 when unknown
	JobID      string
	ID         string // PMI_ID, for servers that identify processes by id
}

// Present reports whether the environment (read through get) has a PMI server to talk to.
func Present(get func(string) string) bool { return get(EnvFD) != "" || get(EnvPort) != "" }

// FromEnv connects to the PMI server named by the environment (read through get): the socket
// in PMI_FD or, without it, PMI_PORT, and opens the session (New). The descriptor in PMI_FD
// is taken over: it is closed on exec and when the client closes.
func FromEnv(get func(string) string) (*Client, error) {
	cfg := Config{Rank: -1, Size: -1, JobID: get(EnvJobID), ID: get(EnvID)}
	for _, v := range []struct {
		name string
		dst  *int
		min  int
	}{{EnvRank, &cfg.Rank, 0}, {EnvSize, &cfg.Size, 1}, {EnvVersion, &cfg.Version, 1}} {
		if s := get(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < v.min {
				return nil, fmt.Errorf("pmi: %s=%q: want an integer of at least %d", v.name, s, v.min)
			}
			*v.dst = n
		}
	}
	if cfg.Version > 2 {
		return nil, fmt.Errorf("pmi: %s=%d: want 1 or 2", EnvVersion, cfg.Version)
	}
	var conn net.Conn
	if s := get(EnvFD); s != "" {
		fd, err := strconv.Atoi(s)
		if err != nil || fd < 0 {
			return nil, fmt.Errorf("pmi: %s=%q is not a file descriptor", EnvFD, s)
		}
		f := os.NewFile(uintptr(fd), EnvFD)
		conn, err = net.FileConn(f) // a duplicate, close-on-exec
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("pmi: %s=%d is not a socket to a PMI server: %w", EnvFD, fd, err)
		}
	} else if addr := get(EnvPort); addr != "" {
		var err error
		if conn, err = net.Dial("tcp", addr); err != nil {
			return nil, fmt.Errorf("pmi: %s=%s: connect to the PMI server: %w", EnvPort, addr, err)
		}
		if cfg.ID != "" {
			if err := portHandshake(conn, &cfg); err != nil {
				conn.Close()
				return nil, err
			}
		}
	} else {
		return nil, fmt.Errorf("pmi: neither %s nor %s is set: not started by a PMI launcher", EnvFD, EnvPort)
	}
	return New(conn, cfg)
}

// portHandshake is the prefix MPICH's simple PMI speaks on a PMI_PORT connection before init:
// "cmd=initack pmiid=ID", answered by cmd=initack and then cmd=set lines for size, rank, debug.
func portHandshake(conn net.Conn, cfg *Config) error {
	if _, err := conn.Write(encode1(message{{"cmd", "initack"}, {"pmiid", cfg.ID}})); err != nil {
		return fmt.Errorf("pmi: initack: %w", err)
	}
	// One byte per read, so that nothing after the handshake is buffered here: it is New's.
	r := bufio.NewReader(oneByte{conn})
	m, err := read1(r)
	if err != nil {
		return fmt.Errorf("pmi: initack: %w", err)
	}
	if m.cmd() != "initack" {
		return protoErr("initack", "answer cmd=%s", clip(m.cmd()))
	}
	for _, want := range []struct {
		key string
		dst *int
	}{{"size", &cfg.Size}, {"rank", &cfg.Rank}, {"debug", nil}} {
		m, err := read1(r)
		if err != nil {
			return fmt.Errorf("pmi: initack: %w", err)
		}
		v, ok := m.get(want.key)
		if m.cmd() != "set" || !ok {
			return protoErr("initack", "want cmd=set %s=..., got cmd=%s", want.key, clip(m.cmd()))
		}
		if want.dst != nil {
			if *want.dst, err = strconv.Atoi(v); err != nil {
				return protoErr("initack", "%s=%q is not a number", want.key, clip(v))
			}
		}
	}
	return nil
}

// New opens a PMI session on conn: it negotiates the version and learns the process's rank,
// the job's size and the name of its key/value space. The client owns conn from then on, and
// closes it if New fails.
func New(conn io.ReadWriteCloser, cfg Config) (*Client, error) {
	c := &Client{conn: conn, r: bufio.NewReader(conn), rank: cfg.Rank, size: cfg.Size,
		maxKey: MaxKeyLen, maxVal: MaxValueLen}
	if err := c.open(cfg); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) open(cfg Config) error {
	versions := []int{2, 1}
	if cfg.Version != 0 {
		versions = []int{cfg.Version}
	}
	var err error
	for _, v := range versions {
		if err = c.init(v); err == nil || !errors.Is(err, ErrServer) {
			break
		}
	}
	if err != nil {
		return err
	}
	if c.version == 1 {
		return c.open1()
	}
	return c.open2(cfg)
}

// init sends the PMI-1 line that opens both versions.
func (c *Client) init(v int) error {
	sub := "1"
	if v == 2 {
		sub = "0"
	}
	c.version = 1 // the init exchange is PMI-1 framed
	m, err := c.call("init", message{{"cmd", "init"}, {"pmi_version", strconv.Itoa(v)}, {"pmi_subversion", sub}}, "response_to_init")
	if err != nil {
		return err
	}
	got := v
	if s, ok := m.get("pmi_version"); ok {
		if got, err = strconv.Atoi(s); err != nil || (got != 1 && got != 2) || got > v {
			return protoErr("init", "asked for PMI-%d, the server answered pmi_version=%q", v, clip(s))
		}
	}
	c.version = got
	return nil
}

func (c *Client) open1() error {
	if c.rank < 0 || c.size < 1 || c.rank >= c.size {
		return fmt.Errorf("pmi: PMI-1 needs the rank and size from %s and %s; have rank %d of %d", EnvRank, EnvSize, c.rank, c.size)
	}
	m, err := c.call("get_maxes", message{{"cmd", "get_maxes"}}, "maxes")
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(valueOf(m, "keylen_max")); err == nil && n > 0 && n < c.maxKey {
		c.maxKey = n
	}
	if n, err := strconv.Atoi(valueOf(m, "vallen_max")); err == nil && n > 0 && n < c.maxVal {
		c.maxVal = n
	}
	if m, err = c.call("get_my_kvsname", message{{"cmd", "get_my_kvsname"}}, "my_kvsname"); err != nil {
		return err
	}
	if c.kvs = valueOf(m, "kvsname"); c.kvs == "" {
		return protoErr("get_my_kvsname", "no kvsname in the answer")
	}
	return nil
}

func (c *Client) open2(cfg Config) error {
	req := message{{"cmd", "fullinit"}}
	if cfg.ID != "" {
		req = append(req, pair{"pmiid", cfg.ID})
	} else {
		if cfg.JobID != "" {
			req = append(req, pair{"pmijobid", cfg.JobID}) // Slurm wants it
		}
		if cfg.Rank >= 0 {
			req = append(req, pair{"pmirank", strconv.Itoa(cfg.Rank)})
		}
	}
	req = append(req, pair{"threaded", "FALSE"})
	m, err := c.call("fullinit", req, "fullinit-response")
	if err != nil {
		return err
	}
	rank, err1 := strconv.Atoi(valueOf(m, "rank"))
	size, err2 := strconv.Atoi(valueOf(m, "size"))
	if err1 != nil || err2 != nil || size < 1 || rank < 0 || rank >= size {
		return protoErr("fullinit", "rank=%q size=%q in the answer", clip(valueOf(m, "rank")), clip(valueOf(m, "size")))
	}
	c.rank, c.size = rank, size
	if m, err = c.call("job-getid", message{{"cmd", "job-getid"}}, "job-getid-response"); err != nil {
		return err
	}
	if c.kvs = valueOf(m, "jobid"); c.kvs == "" {
		return protoErr("job-getid", "no jobid in the answer")
	}
	return nil
}

// Rank returns the process's rank in the job.
func (c *Client) Rank() int { return c.rank }

// Size returns the number of processes in the job.
func (c *Client) Size() int { return c.size }

// Version returns the PMI version in use, 1 or 2.
func (c *Client) Version() int { return c.version }

// KVSName returns the name of the job's key/value space (PMI-1 kvsname, PMI-2 job id).
func (c *Client) KVSName() string { return c.kvs }

// Put stores value under key in the job's key/value space; other processes see it after the
// next Fence. Keys are 1..64 bytes, values up to 1024, both printable ASCII without spaces,
// '=' or ';' (encode binary data, e.g. in hex).
func (c *Client) Put(key, value string) error {
	if err := checkWord("key", key, 1, c.maxKey); err != nil {
		return fmt.Errorf("pmi: put: %w", err)
	}
	if err := checkWord("value", value, 0, c.maxVal); err != nil {
		return fmt.Errorf("pmi: put %s: %w", key, err)
	}
	if c.version == 1 {
		_, err := c.call("put", message{{"cmd", "put"}, {"kvsname", c.kvs}, {"key", key}, {"value", value}}, "put_result")
		return err
	}
	_, err := c.call("kvs-put", message{{"cmd", "kvs-put"}, {"key", key}, {"value", value}}, "kvs-put-response")
	return err
}

// Fence waits until every process of the job has called it, and makes the values put before
// it visible to all (PMI-1 barrier, PMI-2 kvs-fence).
func (c *Client) Fence() error {
	if c.version == 1 {
		_, err := c.call("barrier_in", message{{"cmd", "barrier_in"}}, "barrier_out")
		return err
	}
	_, err := c.call("kvs-fence", message{{"cmd", "kvs-fence"}}, "kvs-fence-response")
	return err
}

// Get returns the value of key; found is false when no process put it (before the last Fence).
func (c *Client) Get(key string) (value string, found bool, err error) {
	if err := checkWord("key", key, 1, c.maxKey); err != nil {
		return "", false, fmt.Errorf("pmi: get: %w", err)
	}
	if c.version == 1 {
		return c.get1(key)
	}
	m, err := c.call("kvs-get", message{{"cmd", "kvs-get"}, {"jobid", c.kvs}, {"srcid", "-1"}, {"key", key}}, "kvs-get-response")
	return found2(m, err)
}

// get1 is a PMI-1 get: a non-zero rc means the key is not there (Slurm answers rc=1, Hydra
// rc=-1 with a msg).
func (c *Client) get1(key string) (string, bool, error) {
	m, err := c.call("get", message{{"cmd", "get"}, {"kvsname", c.kvs}, {"key", key}}, "get_result")
	var se *ServerError
	if errors.As(err, &se) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	v, ok := m.get("value")
	if !ok {
		return "", false, protoErr("get", "rc=0 but no value for %s", key)
	}
	return v, true, nil
}

// found2 reads a PMI-2 answer with found= and value=.
func found2(m message, err error) (string, bool, error) {
	if err != nil {
		return "", false, err
	}
	switch f := valueOf(m, "found"); f {
	case "TRUE":
		v, ok := m.get("value")
		if !ok {
			return "", false, protoErr(m.cmd(), "found=TRUE but no value")
		}
		return v, true, nil
	case "FALSE":
		return "", false, nil
	default:
		return "", false, protoErr(m.cmd(), "found=%q: want TRUE or FALSE", clip(f))
	}
}

// Mapping returns the job's PMI_process_mapping (see ParseMapping); found is false when the
// server does not say.
func (c *Client) Mapping() (value string, found bool, err error) {
	if c.version == 1 {
		return c.get1(MappingKey)
	}
	m, err := c.call("info-getjobattr", message{{"cmd", "info-getjobattr"}, {"key", MappingKey}}, "info-getjobattr-response")
	return found2(m, err)
}

// Finalize ends the session: the server learns the process leaves on purpose. The connection
// is closed afterwards, whatever the answer.
func (c *Client) Finalize() error {
	if c.done {
		return nil
	}
	var err error
	if c.version == 1 {
		_, err = c.call("finalize", message{{"cmd", "finalize"}}, "finalize_ack")
	} else {
		_, err = c.call("finalize", message{{"cmd", "finalize"}}, "finalize-response")
	}
	c.Close()
	return err
}

// Abort asks the launcher to end the whole job (Slurm kills every task of the step, this one
// too). code is the exit status PMI-1 servers may use; msg (PMI-2) says why. The server does
// not answer; Abort returns once the request is written, and the connection stays open. It
// clears a deadline set by SetDeadline.
func (c *Client) Abort(code int, msg string) error {
	if c.done {
		return fmt.Errorf("pmi: abort: the session is closed")
	}
	var req []byte
	if c.version == 1 {
		req = encode1(message{{"cmd", "abort"}, {"exitcode", strconv.Itoa(code)}})
	} else {
		msg = strings.Map(func(r rune) rune {
			if r < 0x20 || r > 0x7e {
				return '?'
			}
			return r
		}, msg)
		if len(msg) > MaxValueLen {
			msg = msg[:MaxValueLen]
		}
		req = encode2(message{{"cmd", "abort"}, {"isworld", "TRUE"}, {"msg", msg}})
	}
	c.SetDeadline(time.Time{}) // a request that timed out must not stop the abort
	if _, err := c.conn.Write(req); err != nil {
		return fmt.Errorf("pmi: abort: %w", err)
	}
	return nil
}

// SetDeadline bounds the requests made until t (the zero time: no bound): one still waiting
// then fails with an error wrapping os.ErrDeadlineExceeded, and the session is unusable. It
// does nothing on a connection without deadlines.
func (c *Client) SetDeadline(t time.Time) error {
	if d, ok := c.conn.(interface{ SetDeadline(time.Time) error }); ok {
		return d.SetDeadline(t)
	}
	return nil
}

// Close closes the connection without finalizing. Calling it again is harmless.
func (c *Client) Close() error {
	if c.done {
		return nil
	}
	c.done = true
	return c.conn.Close()
}

// call sends req and reads the answer, which must be cmd=want with rc=0 (or no rc).
func (c *Client) call(name string, req message, want string) (message, error) {
	if c.done {
		return nil, fmt.Errorf("pmi: %s: the session is closed", name)
	}
	var b []byte
	if c.version == 1 {
		b = encode1(req)
	} else {
		b = encode2(req)
	}
	if _, err := c.conn.Write(b); err != nil {
		return nil, fmt.Errorf("pmi: %s: send the request: %w", name, err)
	}
	var m message
	var err error
	if c.version == 1 {
		m, err = read1(c.r)
	} else {
		m, err = read2(c.r)
	}
	if err != nil {
		return nil, fmt.Errorf("pmi: %s: read the answer: %w", name, err)
	}
	if m.cmd() != want {
		return nil, protoErr(name, "answer cmd=%s, want cmd=%s", clip(m.cmd()), want)
	}
	if s, ok := m.get("rc"); ok {
		rc, err := strconv.Atoi(s)
		if err != nil {
			return nil, protoErr(name, "rc=%q is not a number", clip(s))
		}
		if rc != 0 {
			msg := valueOf(m, "errmsg")
			if msg == "" {
				msg = valueOf(m, "msg")
			}
			return m, &ServerError{Cmd: name, RC: rc, Msg: clip(msg)}
		}
	}
	return m, nil
}

// valueOf returns the value of key in m, or "".
func valueOf(m message, key string) string {
	v, _ := m.get(key)
	return v
}

// checkWord checks a key or value: length in min..max, printable ASCII, no ' ', '=' or ';'.
func checkWord(what, s string, min, max int) error {
	if len(s) < min || len(s) > max {
		return fmt.Errorf("%s of %d bytes: want %d..%d", what, len(s), min, max)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '=' || c == ';' {
			return fmt.Errorf("%s %q: byte %d (%q) is not printable ASCII other than space, '=' and ';'", what, clip(s), i, c)
		}
	}
	return nil
}

// oneByte reads at most one byte per call, so a bufio.Reader over it never reads past the
// line it was asked for.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
