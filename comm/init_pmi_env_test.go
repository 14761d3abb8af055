package comm

import (
	"bytes"
	"net"
	"sync"
	"testing"

	"github.com/gompi/gompi/bootstrap"
	"github.com/gompi/gompi/internal/pmi"
	"github.com/gompi/gompi/internal/pmi/pmitest"
)

// pmiEnvs runs pmiEnv for n ranks against a fake server with the given mapping.
func pmiEnvs(t *testing.T, n int, mapping string, get func(string) string) ([]*bootstrap.Env, *bootstrap.Server) {
	t.Helper()
	srv := &pmitest.Server{Size: n, Mapping: mapping}
	defer srv.Close()
	envs := make([]*bootstrap.Env, n)
	errs := make([]error, n)
	var boot *bootstrap.Server
	var wg sync.WaitGroup
	for r := range n {
		a, b := net.Pipe()
		srv.Serve(b, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pmi.New(a, pmi.Config{Rank: r, Size: n, JobID: "7.0"})
			if err != nil {
				errs[r] = err
				return
			}
			defer c.Close()
			env, s, err := pmiEnv(c, get)
			envs[r], errs[r] = env, err
			if s != nil {
				if r != 0 {
					t.Errorf("rank %d started a bootstrap service", r)
				}
				boot = s
			}
		}()
	}
	wg.Wait()
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	if boot == nil {
		t.Fatal("rank 0 started no bootstrap service")
	}
	t.Cleanup(func() { boot.Close() })
	return envs, boot
}

func TestPMIEnvOneNode(t *testing.T) {
	envs, boot := pmiEnvs(t, 3, "(vector,(0,1,3))", func(k string) string {
		return map[string]string{"GOMPI_TRANSPORT": "tcp"}[k]
	})
	for r, e := range envs {
		if e.Rank != r || e.Size != 3 || e.LocalRank != r || e.LocalSize != 3 {
			t.Errorf("rank %d: rank %d size %d local %d of %d", r, e.Rank, e.Size, e.LocalRank, e.LocalSize)
		}
		if e.Addr != boot.Addr() || e.Host != "" || e.Bind != "none" || e.Transport != "tcp" {
			t.Errorf("rank %d: addr %q (service at %q), host %q, bind %q, transport %q; want the service, \"\", none, tcp (the user's)",
				r, e.Addr, boot.Addr(), e.Host, e.Bind, e.Transport)
		}
		if !bytes.Equal(e.Secret, envs[0].Secret) || e.JobID != envs[0].JobID || len(e.Secret) != 32 || len(e.JobID) != 32 {
			t.Errorf("rank %d: secret or job id differ from rank 0's, or are short", r)
		}
	}
	if host, _, _ := net.SplitHostPort(boot.Addr()); host != "127.0.0.1" {
		t.Errorf("one-node job: service on %s, want 127.0.0.1", boot.Addr())
	}
}

func TestPMIEnvTwoNodes(t *testing.T) {
	envs, boot := pmiEnvs(t, 4, "(vector,(0,2,1))", func(string) string { return "" })
	host, port, _ := net.SplitHostPort(envs[0].Addr)
	_, bport, _ := net.SplitHostPort(boot.Addr())
	want, err := advertisedIP("")
	if err != nil || host != want || port != bport {
		t.Errorf("advertised %s, want %s:%s (%v)", envs[0].Addr, want, bport, err)
	}
	for r, e := range envs {
		// Round robin over two nodes: ranks 0 and 2 on node 0, 1 and 3 on node 1.
		if e.LocalRank != r/2 || e.LocalSize != 2 {
			t.Errorf("rank %d: local %d of %d, want %d of 2", r, e.LocalRank, e.LocalSize, r/2)
		}
		// The rank's own address is join's choice (bootstrap.ListenAddr: the route to the
		// service), not fixed here.
		if e.Host != "" {
			t.Errorf("rank %d: GOMPI_HOST %q, want empty for join to choose", r, e.Host)
		}
	}
	// The service answers on the advertised address (all interfaces).
	c, err := net.Dial("tcp", envs[0].Addr)
	if err != nil {
		t.Fatalf("dial the advertised service: %v", err)
	}
	c.Close()
}

func TestPMIEnvBadTimeout(t *testing.T) {
	if _, err := pmiTimeout(func(string) string { return "soon" }); err == nil {
		t.Fatal("GOMPI_PMI_TIMEOUT=soon accepted")
	}
}
