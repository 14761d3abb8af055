// Package pmitest is an in-process PMI server for tests: it serves PMI-1 and PMI-2 (as Slurm's
// srun --mpi=pmi2 does) to a fixed number of processes, over connections the test hands it or
// over socket pairs whose other end a child process inherits as PMI_FD. Its parsing is written
// apart from package pmi's, so that the two check each other.
package pmitest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Server is a PMI server for Size processes. Set the fields before the first Serve. Its
// methods are safe for concurrent use; each connection is served by its own goroutine.
type Server struct {
	Size     int
	KVSName  string // the PMI-1 kvsname and PMI-2 job id ("7.0" if empty)
	Mapping  string // PMI_process_mapping ("(vector,(0,1,Size))" if empty)
	Versions []int  // the PMI versions served (1 and 2 if empty)
	// OnAbort, if set, is called when a process sends abort (after it is recorded).
	OnAbort func(rank int, msg string)

	mu      sync.Mutex // guards everything below
	kvs     map[string]string
	pending map[string]string // put since the last fence
	entered int               // processes in the current fence
	fenced  chan struct{}     // closed when the current fence completes
	closeCh chan struct{}     // closed by Close
	closed  bool
	conns   []io.Closer
	aborts  []string
	final   int
	wg      sync.WaitGroup
}

func (s *Server) lazyInit() {
	if s.kvs == nil {
		s.fenced = make(chan struct{})
		s.closeCh = make(chan struct{})
		s.kvs = map[string]string{}
		s.pending = map[string]string{}
		if s.KVSName == "" {
			s.KVSName = "7.0"
		}
		if s.Mapping == "" {
			s.Mapping = fmt.Sprintf("(vector,(0,1,%d))", s.Size)
		}
		if len(s.Versions) == 0 {
			s.Versions = []int{1, 2}
		}
	}
}

// Serve serves the process of the given rank on conn until the process finalizes, aborts or
// closes the connection, or the server closes. It returns at once; Close waits for it.
func (s *Server) Serve(conn io.ReadWriteCloser, rank int) {
	s.mu.Lock()
	s.lazyInit()
	if s.closed {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.conns = append(s.conns, conn)
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer conn.Close()
		s.serve(conn, rank)
	}()
}

// SocketPair makes a Unix socket pair, serves rank on one end and returns the other, for a
// child process to inherit (exec.Cmd.ExtraFiles) and name in PMI_FD. The caller closes it
// once the child has started.
func (s *Server) SocketPair(rank int) (*os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("pmitest: socketpair: %w", err)
	}
	mine := os.NewFile(uintptr(fds[0]), "pmi-server")
	conn, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		syscall.Close(fds[1])
		return nil, fmt.Errorf("pmitest: socketpair: %w", err)
	}
	s.Serve(conn, rank)
	return os.NewFile(uintptr(fds[1]), "pmi-client"), nil
}

// Close ends every fence still waiting, closes every connection and waits for the serving
// goroutines to end.
func (s *Server) Close() {
	s.mu.Lock()
	s.lazyInit()
	if !s.closed {
		close(s.closeCh)
	}
	s.closed = true
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Aborts returns what the processes that aborted said, as "rank N: msg".
func (s *Server) Aborts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.aborts...)
}

// Finalized returns how many processes finalized.
func (s *Server) Finalized() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.final
}

// Value returns the committed value of key (put before a completed fence).
func (s *Server) Value(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.kvs[key]
	return v, ok
}

func (s *Server) serve(conn io.ReadWriter, rank int) {
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return
	}
	f := fields1(line)
	v, _ := strconv.Atoi(f["pmi_version"])
	if f["cmd"] != "init" || !s.serves(v) {
		fmt.Fprintf(conn, "cmd=response_to_init rc=-1 msg=unsupported_version\n")
		// Like Hydra, let the client try another version on the same connection.
		s.serve(conn, rank)
		return
	}
	if v == 1 {
		fmt.Fprintf(conn, "cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1\n")
		s.serve1(conn, r, rank)
		return
	}
	fmt.Fprintf(conn, "cmd=response_to_init rc=0 pmi_version=2 pmi_subversion=0\n")
	s.serve2(conn, r, rank)
}

func (s *Server) serves(v int) bool {
	for _, x := range s.Versions {
		if x == v {
			return true
		}
	}
	return false
}

// requests reads a connection's requests, after init, into a channel that closes at the end
// of the connection: the serving loop can then watch for an abort while a fence waits.
// The reader ends when stop closes.
func requests(r *bufio.Reader, v2 bool, stop <-chan struct{}) <-chan map[string]string {
	ch := make(chan map[string]string)
	go func() {
		defer close(ch)
		for {
			var f map[string]string
			if !v2 {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				f = fields1(line)
			} else {
				var hdr [6]byte
				if _, err := io.ReadFull(r, hdr[:]); err != nil {
					return
				}
				n, err := strconv.Atoi(strings.TrimSpace(string(hdr[:])))
				if err != nil || n <= 0 || n > 1<<16 {
					return
				}
				body := make([]byte, n)
				if _, err := io.ReadFull(r, body); err != nil {
					return
				}
				f = fields2(string(body))
			}
			select {
			case ch <- f:
			case <-stop:
				return
			}
			if f["cmd"] == "finalize" || f["cmd"] == "abort" {
				return
			}
		}
	}()
	return ch
}

func (s *Server) serve1(w io.Writer, r *bufio.Reader, rank int) {
	stop := make(chan struct{})
	defer close(stop)
	reqs := requests(r, false, stop)
	for f := range reqs {
		switch f["cmd"] {
		case "get_maxes":
			fmt.Fprintf(w, "cmd=maxes rc=0 kvsname_max=256 keylen_max=64 vallen_max=1024\n")
		case "get_my_kvsname":
			fmt.Fprintf(w, "cmd=my_kvsname rc=0 kvsname=%s\n", s.KVSName)
		case "put":
			s.put(f["key"], f["value"])
			fmt.Fprintf(w, "cmd=put_result rc=0\n")
		case "barrier_in":
			if !s.fence(reqs, rank) {
				return
			}
			fmt.Fprintf(w, "cmd=barrier_out rc=0\n")
		case "get":
			if v, ok := s.get(f["key"]); ok {
				fmt.Fprintf(w, "cmd=get_result rc=0 value=%s\n", v)
			} else {
				fmt.Fprintf(w, "cmd=get_result rc=1\n")
			}
		case "finalize":
			s.finalized()
			fmt.Fprintf(w, "cmd=finalize_ack rc=0\n")
			return
		case "abort":
			s.abort(rank, "exitcode="+f["exitcode"])
			return
		default:
			fmt.Fprintf(w, "cmd=%s_result rc=-1 msg=unknown_command\n", f["cmd"])
		}
	}
}

func (s *Server) serve2(w io.Writer, r *bufio.Reader, rank int) {
	send := func(body string) { fmt.Fprintf(w, "%-6d%s", len(body), body) }
	stop := make(chan struct{})
	defer close(stop)
	reqs := requests(r, true, stop)
	for f := range reqs {
		switch f["cmd"] {
		case "fullinit":
			send(fmt.Sprintf("cmd=fullinit-response;rc=0;pmi-version=2;pmi-subversion=0;rank=%d;size=%d;appnum=-1;debugged=FALSE;pmiverbose=FALSE;", rank, s.Size))
		case "job-getid":
			send("cmd=job-getid-response;rc=0;jobid=" + s.KVSName + ";")
		case "info-getjobattr":
			if f["key"] == "PMI_process_mapping" {
				send("cmd=info-getjobattr-response;rc=0;found=TRUE;value=" + s.Mapping + ";")
			} else {
				send("cmd=info-getjobattr-response;rc=0;found=FALSE;")
			}
		case "kvs-put":
			s.put(f["key"], f["value"])
			send("cmd=kvs-put-response;rc=0;")
		case "kvs-fence":
			if !s.fence(reqs, rank) {
				return
			}
			send("cmd=kvs-fence-response;rc=0;")
		case "kvs-get":
			if v, ok := s.get(f["key"]); ok {
				send("cmd=kvs-get-response;rc=0;found=TRUE;value=" + strings.ReplaceAll(v, ";", ";;") + ";")
			} else {
				send("cmd=kvs-get-response;rc=0;found=FALSE;")
			}
		case "finalize":
			s.finalized()
			send("cmd=finalize-response;rc=0;")
			return
		case "abort":
			s.abort(rank, f["msg"])
			return
		default:
			send("cmd=" + f["cmd"] + "-response;rc=14;errmsg=unknown command;")
		}
	}
}

func (s *Server) put(k, v string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending[k] = v
}

func (s *Server) get(k string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k == "PMI_process_mapping" {
		return s.Mapping, true
	}
	v, ok := s.kvs[k]
	return v, ok
}

// fence waits until Size processes have entered. Meanwhile the process may only abort (as
// under Slurm, whose server reads while a fence waits); false if it did, or broke the
// protocol, or left, or the server closed.
func (s *Server) fence(reqs <-chan map[string]string, rank int) bool {
	s.mu.Lock()
	done := s.fenced
	s.entered++
	if s.entered == s.Size {
		for k, v := range s.pending {
			s.kvs[k] = v
		}
		s.pending = map[string]string{}
		s.entered = 0
		close(s.fenced)
		s.fenced = make(chan struct{})
	}
	s.mu.Unlock()
	select {
	case <-done:
		return true
	case f, ok := <-reqs:
		if ok && f["cmd"] == "abort" {
			msg := f["msg"]
			if msg == "" {
				msg = "exitcode=" + f["exitcode"]
			}
			s.abort(rank, msg)
		}
		return false
	case <-s.closeCh:
		return false
	}
}

func (s *Server) finalized() {
	s.mu.Lock()
	s.final++
	s.mu.Unlock()
}

func (s *Server) abort(rank int, msg string) {
	s.mu.Lock()
	s.aborts = append(s.aborts, fmt.Sprintf("rank %d: %s", rank, msg))
	s.mu.Unlock()
	if s.OnAbort != nil {
		s.OnAbort(rank, msg)
	}
}

// fields1 splits a PMI-1 line into its key=value pairs.
func fields1(line string) map[string]string {
	f := map[string]string{}
	for _, w := range strings.Fields(line) {
		if k, v, ok := strings.Cut(w, "="); ok {
			f[k] = v
		}
	}
	return f
}

// fields2 splits a PMI-2 message body into its key=value pairs (";;" is a ';' of a value).
func fields2(body string) map[string]string {
	f := map[string]string{}
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(body); i++ {
		if body[i] == ';' {
			if i+1 < len(body) && body[i+1] == ';' {
				cur.WriteByte(';')
				i++
				continue
			}
			parts = append(parts, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(body[i])
	}
	if cur.Len() > 0 {
		parts = append(parts, cur.String())
	}
	for _, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok {
			f[k] = v
		}
	}
	return f
}
