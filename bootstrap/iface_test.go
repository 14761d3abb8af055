package bootstrap

import (
	"net"
	"strings"
	"testing"
)

func ipnet(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

// A node with the usual clutter: loopback, a docker bridge, an Ethernet and an InfiniBand
// interface (IPv4 and IPv6), and one that is down.
var testIfaces = []Iface{
	{Name: "lo", Up: true, Loopback: true, Addrs: []*net.IPNet{ipnet("127.0.0.1/8"), ipnet("::1/128")}},
	{Name: "docker0", Up: true, Addrs: []*net.IPNet{ipnet("172.17.0.1/16")}},
	{Name: "eth0", Up: true, Addrs: []*net.IPNet{ipnet("fe80::1/64"), ipnet("192.0.2.10/24")}},
	{Name: "ib0", Up: true, Addrs: []*net.IPNet{ipnet("fd00::5/64"), ipnet("10.1.0.5/16")}},
	{Name: "eth1", Up: false, Addrs: []*net.IPNet{ipnet("10.2.0.5/16")}},
}

func TestChooseAddr(t *testing.T) {
	cases := []struct {
		spec   string
		route  string
		ip     string
		iface  string
		errHas string
	}{
		{"", "192.0.2.10", "192.0.2.10", "eth0", ""},         // the route to the bootstrap host
		{"", "10.1.0.5", "10.1.0.5", "ib0", ""},              // whichever interface it leaves by
		{"ib0", "192.0.2.10", "10.1.0.5", "ib0", ""},         // --iface wins over the route
		{"ib*", "", "10.1.0.5", "ib0", ""},                   // a pattern; IPv4 first
		{"10.0.0.0/8", "192.0.2.10", "10.1.0.5", "ib0", ""},  // a block
		{"fd00::/16", "", "fd00::5", "ib0", ""},              // an IPv6 block
		{"^docker0,eth0", "", "10.1.0.5", "ib0", ""},         // exclusions
		{"^docker0", "192.0.2.10", "192.0.2.10", "eth0", ""}, // the route, if allowed
		{"^docker0", "172.17.0.1", "192.0.2.10", "eth0", ""}, // else the first allowed
		{"eth0,ib0", "10.1.0.5", "10.1.0.5", "ib0", ""},      // a list
		{"lo", "127.0.0.1", "", "", `--iface "lo" allows`},   // never loopback
		{"eth1", "", "", "", `--iface "eth1" allows`},        // never a down interface
		{"10.9.0.0/16", "", "", "", "found: lo 127.0.0.1/8"}, // nothing matches: the list
		{"", "127.0.0.1", "", "", "leaves from 127.0.0.1"},   // route by loopback, no spec
		{"", "", "", "", "no route to the bootstrap host"},   // no route, no spec
		{"", "10.2.0.5", "", "", "eth1 10.2.0.5/16 (down)"},  // the route's interface is down
		{"^eth0,ib0,docker0", "", "", "", "--iface \"^eth0"}, // all excluded
	}
	for _, tc := range cases {
		spec, err := ParseIfaceSpec(tc.spec)
		if err != nil {
			t.Fatalf("ParseIfaceSpec(%q): %v", tc.spec, err)
		}
		ip, name, err := ChooseAddr(testIfaces, spec, net.ParseIP(tc.route))
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Errorf("--iface %q, route %s: got %s on %s, %v; want an error with %q", tc.spec, tc.route, ip, name, err, tc.errHas)
			}
			continue
		}
		if err != nil || ip.String() != tc.ip || name != tc.iface {
			t.Errorf("--iface %q, route %s: got %s on %s, %v; want %s on %s", tc.spec, tc.route, ip, name, err, tc.ip, tc.iface)
		}
	}
}

func TestParseIfaceSpecErrors(t *testing.T) {
	for _, s := range []string{"10.0.0.0/33", "^", ",", "eth[", "1.2.3.4/x"} {
		if _, err := ParseIfaceSpec(s); err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("ParseIfaceSpec(%q): %v, want an error naming it", s, err)
		}
	}
}

// ListenAddr: an address given wins; a job whose bootstrap service is on loopback (one host)
// listens on loopback; otherwise this host's interfaces decide, and a spec nothing matches
// fails, naming the bootstrap service.
func TestListenAddr(t *testing.T) {
	if a, _, err := ListenAddr("10.0.0.7", "eth0", "10.0.0.1:5"); err != nil || a != "10.0.0.7" {
		t.Errorf("GOMPI_HOST given: %s, %v", a, err)
	}
	for _, b := range []string{"", "127.0.0.1:5", "[::1]:5", "localhost:5"} {
		if a, iface, err := ListenAddr("", "eth0", b); err != nil || a != "127.0.0.1" {
			t.Errorf("bootstrap %q: %s (%s), %v; want 127.0.0.1", b, a, iface, err)
		}
	}
	_, _, err := ListenAddr("", "203.0.113.0/24", "192.0.2.200:5")
	if err == nil || !strings.Contains(err.Error(), "192.0.2.200:5") || !strings.Contains(err.Error(), "203.0.113.0/24") {
		t.Errorf("an --iface nothing here matches: %v", err)
	}
}
