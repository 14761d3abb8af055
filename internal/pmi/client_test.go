package pmi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/gompi/gompi/internal/pmi/pmitest"
)

// runJob opens n clients of the given version (0: negotiate) on srv over in-memory pipes and
// runs f on each, concurrently; it returns f's errors by rank.
func runJob(t *testing.T, srv *pmitest.Server, n, version int, f func(c *Client) error) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for r := range n {
		a, b := net.Pipe()
		srv.Serve(b, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := New(a, Config{Version: version, Rank: r, Size: n, JobID: "7.0"})
			if err != nil {
				errs[r] = err
				return
			}
			errs[r] = f(c)
		}()
	}
	wg.Wait()
	return errs
}

func TestPutFenceGet(t *testing.T) {
	for _, tc := range []struct {
		name     string
		served   []int
		asked    int
		wantVers int
	}{
		{"PMI-1", []int{1, 2}, 1, 1},
		{"PMI-2", []int{1, 2}, 2, 2},
		{"negotiated PMI-2", []int{1, 2}, 0, 2},
		{"fallback to PMI-1", []int{1}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 5
			srv := &pmitest.Server{Size: n, Versions: tc.served, Mapping: "(vector,(0,2,2),(2,1,1))"}
			defer srv.Close()
			errs := runJob(t, srv, n, tc.asked, func(c *Client) error {
				if c.Version() != tc.wantVers {
					return fmt.Errorf("version %d, want %d", c.Version(), tc.wantVers)
				}
				if c.Size() != n || c.KVSName() != "7.0" {
					return fmt.Errorf("size %d kvs %q, want %d and 7.0", c.Size(), c.KVSName(), n)
				}
				if err := c.Put("key-"+strconv.Itoa(c.Rank()), fmt.Sprintf("value:%d,x", c.Rank()*7)); err != nil {
					return err
				}
				if err := c.Fence(); err != nil {
					return err
				}
				for r := range n {
					v, ok, err := c.Get("key-" + strconv.Itoa(r))
					if want := fmt.Sprintf("value:%d,x", r*7); err != nil || !ok || v != want {
						return fmt.Errorf("get key-%d: %q %v %v, want %q", r, v, ok, err, want)
					}
				}
				if v, ok, err := c.Get("missing"); err != nil || ok {
					return fmt.Errorf("get missing: %q %v %v, want not found", v, ok, err)
				}
				m, ok, err := c.Mapping()
				if err != nil || !ok || m != "(vector,(0,2,2),(2,1,1))" {
					return fmt.Errorf("mapping %q %v %v", m, ok, err)
				}
				// A second round: values put after the first fence appear after the second.
				if err := c.Put("round2-"+strconv.Itoa(c.Rank()), "y"); err != nil {
					return err
				}
				if err := c.Fence(); err != nil {
					return err
				}
				if _, ok, err := c.Get("round2-" + strconv.Itoa((c.Rank()+1)%n)); err != nil || !ok {
					return fmt.Errorf("round 2 get: %v %v", ok, err)
				}
				return c.Finalize()
			})
			for r, err := range errs {
				if err != nil {
					t.Errorf("rank %d: %v", r, err)
				}
			}
			if got := srv.Finalized(); got != n {
				t.Errorf("%d processes finalized, want %d", got, n)
			}
		})
	}
}

func TestAbortReachesServer(t *testing.T) {
	for _, v := range []int{1, 2} {
		srv := &pmitest.Server{Size: 1}
		aborted := make(chan string, 1)
		srv.OnAbort = func(rank int, msg string) { aborted <- msg }
		errs := runJob(t, srv, 1, v, func(c *Client) error { return c.Abort(3, "rank 0 failed; bye") })
		if errs[0] != nil {
			t.Fatalf("PMI-%d abort: %v", v, errs[0])
		}
		got := <-aborted
		want := map[int]string{1: "exitcode=3", 2: "rank 0 failed; bye"}[v]
		if got != want {
			t.Errorf("PMI-%d abort: server got %q, want %q", v, got, want)
		}
		srv.Close()
	}
}

// scripted runs a fake server that answers the client's requests, one by one, with replies
// (raw bytes; "" closes the connection instead). It returns the client side.
func scripted(t *testing.T, replies ...string) net.Conn {
	t.Helper()
	a, b := net.Pipe()
	done := make(chan struct{})
	t.Cleanup(func() { a.Close(); b.Close(); <-done })
	go func() {
		defer close(done)
		defer b.Close()
		r := bufio.NewReader(b)
		v2 := false
		for _, reply := range replies {
			if err := readRequest(r, v2); err != nil {
				return
			}
			if reply == "" {
				return
			}
			if strings.Contains(reply, "pmi_version=2") {
				v2 = true
			}
			if _, err := b.Write([]byte(reply)); err != nil {
				return
			}
		}
	}()
	return a
}

// readRequest skips one request of the client.
func readRequest(r *bufio.Reader, v2 bool) error {
	if !v2 {
		_, err := r.ReadString('\n')
		return err
	}
	var hdr [6]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(hdr[:])))
	_, err := io.ReadFull(r, make([]byte, n))
	return err
}

func msg2(body string) string { return fmt.Sprintf("%-6d%s", len(body), body) }

const (
	init1 = "cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1\n"
	init2 = "cmd=response_to_init rc=0 pmi_version=2 pmi_subversion=0\n"
	open1 = init1 + "\x00cmd=maxes rc=0 kvsname_max=256 keylen_max=64 vallen_max=1024\n\x00cmd=my_kvsname rc=0 kvsname=9.1\n"
)

// open2 are the answers to a PMI-2 client's opening requests.
var open2 = []string{init2, msg2("cmd=fullinit-response;rc=0;rank=1;size=4;appnum=-1;"), msg2("cmd=job-getid-response;rc=0;jobid=9.1;")}

func TestErrors(t *testing.T) {
	cases := []struct {
		name    string
		version int
		replies []string
		op      func(c *Client) error
		want    []string // in the error text
		is      error
	}{
		{"PMI-1 put rc", 1, append(strings.Split(open1, "\x00"), "cmd=put_result rc=2 msg=kvs_full\n"),
			func(c *Client) error { return c.Put("k", "v") }, []string{"pmi: put:", "rc=2", "kvs_full"}, ErrServer},
		{"PMI-2 fence rc", 2, append(open2, msg2("cmd=kvs-fence-response;rc=14;errmsg=fence failed;; really;")),
			func(c *Client) error { return c.Fence() }, []string{"kvs-fence", "rc=14", "fence failed; really"}, ErrServer},
		{"PMI-2 short read", 2, append(open2, "000040cmd=kvs-get-response;rc=0"),
			func(c *Client) error { _, _, err := c.Get("k"); return err }, []string{"kvs-get", "closed the connection in the middle of a 40-byte message"}, nil},
		{"PMI-2 bad length", 2, append(open2, "12x456cmd=kvs-put-response;rc=0;"),
			func(c *Client) error { return c.Put("k", "v") }, []string{"kvs-put", "message length"}, ErrProtocol},
		{"PMI-1 bad line", 1, append(strings.Split(open1, "\x00"), "hello world\n"),
			func(c *Client) error { return c.Fence() }, []string{"barrier_in", "hello"}, ErrProtocol},
		{"PMI-1 wrong answer", 1, append(strings.Split(open1, "\x00"), "cmd=put_result rc=0\n"),
			func(c *Client) error { return c.Fence() }, []string{"barrier_in", "cmd=put_result, want cmd=barrier_out"}, ErrProtocol},
		{"PMI-1 rc not a number", 1, append(strings.Split(open1, "\x00"), "cmd=barrier_out rc=zero\n"),
			func(c *Client) error { return c.Fence() }, []string{"barrier_in", `rc="zero"`}, ErrProtocol},
		{"PMI-1 server closes", 1, append(strings.Split(open1, "\x00"), ""),
			func(c *Client) error { return c.Fence() }, []string{"barrier_in", "the server closed the connection"}, nil},
		{"PMI-1 half a line", 1, append(strings.Split(open1, "\x00"), "cmd=barrier_o"),
			func(c *Client) error { return c.Fence() }, []string{"barrier_in", "in the middle of a line"}, nil},
		{"PMI-2 found garbage", 2, append(open2, msg2("cmd=kvs-get-response;rc=0;found=MAYBE;")),
			func(c *Client) error { _, _, err := c.Get("k"); return err }, []string{"kvs-get-response", "MAYBE"}, ErrProtocol},
		{"PMI-2 fullinit refused", 2, []string{init2, msg2("cmd=fullinit-response;rc=3;errmsg=pmijobid missing;")},
			nil, []string{"fullinit", "rc=3", "pmijobid missing"}, ErrServer},
		{"PMI-2 fullinit without size", 2, []string{init2, msg2("cmd=fullinit-response;rc=0;rank=0;")},
			nil, []string{"fullinit", `size=""`}, ErrProtocol},
		{"init refused", 1, []string{"cmd=response_to_init rc=-1 msg=unsupported version\n"},
			nil, []string{"init", "rc=-1", "unsupported version"}, ErrServer},
		{"server closes at once", 0, []string{""},
			nil, []string{"init", "the server closed the connection"}, nil},
		{"value with a space", 1, strings.Split(open1, "\x00"),
			func(c *Client) error { return c.Put("k", "a b") }, []string{"put k", "value", "byte 1"}, nil},
		{"key too long", 2, open2,
			func(c *Client) error { return c.Put(strings.Repeat("k", 65), "v") }, []string{"put", "key of 65 bytes"}, nil},
		{"value too long", 2, open2,
			func(c *Client) error { return c.Put("k", strings.Repeat("v", 1025)) }, []string{"put k", "value of 1025 bytes"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn := scripted(t, tc.replies...)
			c, err := New(conn, Config{Version: tc.version, Rank: 1, Size: 4, JobID: "9.1"})
			if err == nil {
				if tc.op == nil {
					t.Fatal("New succeeded, want an error")
				}
				err = tc.op(c)
			} else if tc.op != nil {
				t.Fatalf("New: %v", err)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
}

func TestServerErrorFields(t *testing.T) {
	conn := scripted(t, append(strings.Split(open1, "\x00"), "cmd=put_result rc=2 msg=kvs_full\n")...)
	c, err := New(conn, Config{Version: 1, Rank: 0, Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	var se *ServerError
	if err := c.Put("k", "v"); !errors.As(err, &se) || se.Cmd != "put" || se.RC != 2 || se.Msg != "kvs_full" {
		t.Fatalf("Put: %v (%+v), want ServerError{put 2 kvs_full}", err, se)
	}
}

func TestFromEnvFD(t *testing.T) {
	srv := &pmitest.Server{Size: 2}
	defer srv.Close()
	errs := make(chan error, 2)
	for r := range 2 {
		f, err := srv.SocketPair(r)
		if err != nil {
			t.Fatal(err)
		}
		fd, err := syscall.Dup(int(f.Fd())) // FromEnv takes over the descriptor
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{EnvFD: strconv.Itoa(fd), EnvRank: strconv.Itoa(r), EnvSize: "2", EnvJobID: "7.0"}
		go func() {
			c, err := FromEnv(func(k string) string { return env[k] })
			if err == nil {
				if c.Rank() != r || c.Version() != 2 {
					err = fmt.Errorf("rank %d version %d, want %d and 2", c.Rank(), c.Version(), r)
				} else if err = c.Fence(); err == nil {
					err = c.Finalize()
				}
			}
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestFromEnvPort(t *testing.T) {
	srv := &pmitest.Server{Size: 1, Versions: []int{1}}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || line != "cmd=initack pmiid=5\n" {
			conn.Close()
			return
		}
		io.WriteString(conn, "cmd=initack\ncmd=set size=1\ncmd=set rank=0\ncmd=set debug=0\n")
		srv.Serve(conn, 0)
	}()
	env := map[string]string{EnvPort: ln.Addr().String(), EnvID: "5"}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.Rank() != 0 || c.Size() != 1 || c.Version() != 1 {
		t.Fatalf("rank %d size %d version %d, want 0 1 1", c.Rank(), c.Size(), c.Version())
	}
	if err := c.Put("a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := c.Fence(); err != nil {
		t.Fatal(err)
	}
	if v, ok := srv.Value("a"); !ok || v != "b" {
		t.Fatalf("server has a=%q %v, want b", v, ok)
	}
	if err := c.Finalize(); err != nil {
		t.Fatal(err)
	}
}

func TestFromEnvErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "neither PMI_FD nor PMI_PORT"},
		{map[string]string{EnvFD: "x"}, `PMI_FD="x" is not a file descriptor`},
		{map[string]string{EnvFD: "3", EnvRank: "-1"}, `PMI_RANK="-1"`},
		{map[string]string{EnvFD: "3", EnvVersion: "3"}, "GOMPI_PMI_VERSION=3: want 1 or 2"},
		{map[string]string{EnvPort: "127.0.0.1:1"}, "PMI_PORT=127.0.0.1:1: connect"},
	} {
		_, err := FromEnv(func(k string) string { return tc.env[k] })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FromEnv(%v) = %v, want an error containing %q", tc.env, err, tc.want)
		}
	}
}

func TestFromEnvNotASocket(t *testing.T) {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(p[1])
	_, err := FromEnv(func(k string) string { return map[string]string{EnvFD: strconv.Itoa(p[0])}[k] })
	if err == nil || !strings.Contains(err.Error(), "is not a socket to a PMI server") {
		t.Fatalf("FromEnv on a pipe: %v", err)
	}
}
