package bootstrap

import (
	"fmt"
	"net"
	"path"
	"slices"
	"strings"
)

// EnvIface names the network interfaces a rank of a multi-host job may listen on (gompirun
// --iface): see ParseIfaceSpec for the syntax. Unset: the interface that routes to the
// bootstrap service's host.
const EnvIface = "GOMPI_IFACE"

// IfaceSpec says which network interfaces a rank may use, as gompirun --iface gives it: a
// comma-separated list of interface names (shell patterns allowed: "ib*") and CIDR blocks
// ("10.0.0.0/8"); a list that starts with "^" excludes what it names instead ("^docker0,virbr*"),
// like OpenMPI's btl_tcp_if_include / if_exclude. The zero IfaceSpec allows every interface.
// An IfaceSpec is not modified after ParseIfaceSpec returns it.
type IfaceSpec struct {
	Exclude bool
	Names   []string     // interface names or patterns
	Nets    []*net.IPNet // address blocks
	text    string
}

// ParseIfaceSpec parses an --iface value (see IfaceSpec). Errors name the value and the part
// that is wrong.
func ParseIfaceSpec(s string) (IfaceSpec, error) {
	spec := IfaceSpec{text: s}
	body := strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(body, "^"); ok {
		spec.Exclude, body = true, rest
	}
	for _, item := range strings.Split(body, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
			continue
		case strings.Contains(item, "/"):
			_, n, err := net.ParseCIDR(item)
			if err != nil {
				return IfaceSpec{}, fmt.Errorf("bootstrap: interface list %q: %q is not a CIDR block such as 10.0.0.0/8", s, item)
			}
			spec.Nets = append(spec.Nets, n)
		default:
			if _, err := path.Match(item, ""); err != nil {
				return IfaceSpec{}, fmt.Errorf("bootstrap: interface list %q: bad pattern %q", s, item)
			}
			spec.Names = append(spec.Names, item)
		}
	}
	if len(spec.Names) == 0 && len(spec.Nets) == 0 && strings.TrimSpace(s) != "" {
		return IfaceSpec{}, fmt.Errorf("bootstrap: interface list %q names no interface or address block", s)
	}
	return spec, nil
}

// String returns the spec as it was given.
func (s IfaceSpec) String() string { return s.text }

// allows reports whether the spec lets a rank use address ip of interface name.
func (s IfaceSpec) allows(name string, ip net.IP) bool {
	if len(s.Names) == 0 && len(s.Nets) == 0 {
		return true
	}
	hit := slices.ContainsFunc(s.Names, func(p string) bool { ok, _ := path.Match(p, name); return ok }) ||
		slices.ContainsFunc(s.Nets, func(n *net.IPNet) bool { return n.Contains(ip) })
	return hit != s.Exclude
}

// Iface is one network interface as ChooseAddr sees it.
type Iface struct {
	Name     string
	Up       bool
	Loopback bool
	Addrs    []*net.IPNet
}

// Interfaces lists this host's network interfaces.
func Interfaces() ([]Iface, error) {
	list, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("bootstrap: list network interfaces: %w", err)
	}
	var out []Iface
	for _, ni := range list {
		it := Iface{Name: ni.Name, Up: ni.Flags&net.FlagUp != 0, Loopback: ni.Flags&net.FlagLoopback != 0}
		addrs, err := ni.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				it.Addrs = append(it.Addrs, n)
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// ChooseAddr picks the address a rank of a multi-host job listens on and advertises, and its
// interface, among ifaces:
//
//   - only interfaces that are up, not loopback (other hosts cannot reach it), and allowed
//     by spec; IPv6 link-local addresses are skipped (they need a zone to be dialled);
//   - route, when not nil, is the local address the kernel uses to reach the bootstrap
//     service's host: if it is one of those, it wins, since the host that every rank reached
//     once is reachable from there;
//   - otherwise, with a spec, the first allowed address, IPv4 before IPv6;
//   - otherwise (no spec, and the route leaves by no usable interface) an error, as guessing
//     would pick a wrong network half the time.
//
// Errors say what was asked and list the interfaces found, so the user can write --iface.
func ChooseAddr(ifaces []Iface, spec IfaceSpec, route net.IP) (net.IP, string, error) {
	type cand struct {
		ip   net.IP
		name string
	}
	var cands []cand
	for _, it := range ifaces {
		if !it.Up || it.Loopback {
			continue
		}
		for _, a := range it.Addrs {
			if a.IP.IsLinkLocalUnicast() || !spec.allows(it.Name, a.IP) {
				continue
			}
			cands = append(cands, cand{a.IP, it.Name})
		}
	}
	if route != nil {
		for _, c := range cands {
			if c.ip.Equal(route) {
				return c.ip, c.name, nil
			}
		}
	}
	if len(cands) > 0 && spec.String() != "" {
		for _, c := range cands {
			if c.ip.To4() != nil {
				return c.ip, c.name, nil
			}
		}
		return cands[0].ip, cands[0].name, nil
	}
	found := describeIfaces(ifaces)
	switch {
	case spec.String() != "":
		return nil, "", fmt.Errorf("bootstrap: no usable address on the interfaces that --iface %q allows (up, not loopback); found: %s", spec, found)
	case route == nil:
		return nil, "", fmt.Errorf("bootstrap: no route to the bootstrap host to choose an interface by; give one with gompirun --iface (found: %s)", found)
	default:
		return nil, "", fmt.Errorf("bootstrap: the route to the bootstrap host leaves from %s, which is not an address of an up, non-loopback interface: give one with gompirun --iface (found: %s)", route, found)
	}
}

func describeIfaces(ifaces []Iface) string {
	var parts []string
	for _, it := range ifaces {
		var addrs []string
		for _, a := range it.Addrs {
			addrs = append(addrs, a.String())
		}
		s := it.Name + " " + strings.Join(addrs, " ")
		if !it.Up {
			s += " (down)"
		}
		if it.Loopback {
			s += " (loopback)"
		}
		parts = append(parts, strings.TrimSpace(s))
	}
	if len(parts) == 0 {
		return "no interfaces"
	}
	return strings.Join(parts, "; ")
}

// routeTo returns the local address the kernel would use to reach host (a UDP "connection"
// sends nothing; it only asks for the route), or nil.
func routeTo(host string) net.IP {
	c, err := net.Dial("udp", net.JoinHostPort(host, "9"))
	if err != nil {
		return nil
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP
}

// ListenAddr is the address a rank listens on and advertises to its peers, and the name of its
// interface (for messages; "" when unknown), from the rank's GOMPI_HOST, GOMPI_IFACE and
// GOMPI_BOOTSTRAP: host when set (the launcher's or the user's choice); 127.0.0.1 when the
// bootstrap service is on loopback or absent (every rank is on one host); else ChooseAddr over
// this host's interfaces, with the route to the bootstrap service's host. A rank of a
// multi-host job thus never advertises loopback.
func ListenAddr(host, iface, bootstrapAddr string) (string, string, error) {
	if host != "" {
		return host, ifaceOf(host), nil
	}
	bhost, _, err := net.SplitHostPort(bootstrapAddr)
	if bootstrapAddr == "" || err != nil || isLoopback(bhost) {
		return "127.0.0.1", ifaceOf("127.0.0.1"), nil
	}
	spec, err := ParseIfaceSpec(iface)
	if err != nil {
		return "", "", err
	}
	ifaces, err := Interfaces()
	if err != nil {
		return "", "", err
	}
	ip, name, err := ChooseAddr(ifaces, spec, routeTo(bhost))
	if err != nil {
		return "", "", fmt.Errorf("%w (bootstrap service at %s)", err, bootstrapAddr)
	}
	return ip.String(), name, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ifaceOf names the interface that holds address host, or "".
func ifaceOf(host string) string {
	ip := net.ParseIP(host)
	if ip == nil {
		return ""
	}
	ifaces, _ := Interfaces()
	for _, it := range ifaces {
		for _, a := range it.Addrs {
			if a.IP.Equal(ip) {
				return it.Name
			}
		}
	}
	return ""
}
