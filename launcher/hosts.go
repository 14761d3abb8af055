package launcher

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Host is a machine ranks may be placed on, with the number of ranks it takes before the
// placement moves to the next host.
type Host struct {
	Name  string // host name or address, as the launch agent and the ranks know it
	Slots int    // ranks per round of placement; at least 1
}

// IsLocal reports whether the host is this machine, so its ranks start directly rather than
// through the launch agent: "localhost", "127.0.0.1" and "::1".
func (h Host) IsLocal() bool { return isLocalName(h.Name) }

func isLocalName(name string) bool {
	return name == "localhost" || name == "127.0.0.1" || name == "::1"
}

// ParseHosts parses a --host list: comma-separated NAME or NAME:SLOTS entries ("a:2,b:2,c").
// A name without slots has one slot; a name given twice adds up its slots (like mpirun, where
// "--host a,a" means two slots on a). IPv6 addresses go in brackets: "[::1]:2".
func ParseHosts(spec string) ([]Host, error) {
	var hosts []Host
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, slots := item, 1
		if strings.HasPrefix(item, "[") {
			end := strings.Index(item, "]")
			if end < 0 {
				return nil, fmt.Errorf("launcher: host %q: missing ]", item)
			}
			name = item[1:end]
			rest := item[end+1:]
			if rest != "" {
				if !strings.HasPrefix(rest, ":") {
					return nil, fmt.Errorf("launcher: host %q: want [ADDR]:SLOTS", item)
				}
				n, err := parseSlots(rest[1:])
				if err != nil {
					return nil, fmt.Errorf("launcher: host %q: %w", item, err)
				}
				slots = n
			}
		} else if i := strings.LastIndex(item, ":"); i >= 0 {
			n, err := parseSlots(item[i+1:])
			if err != nil {
				return nil, fmt.Errorf("launcher: host %q: %w", item, err)
			}
			name, slots = item[:i], n
		}
		if name == "" {
			return nil, fmt.Errorf("launcher: host %q: empty name", item)
		}
		hosts = addHost(hosts, Host{Name: name, Slots: slots})
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("launcher: empty host list %q", spec)
	}
	return hosts, nil
}

// ParseHostfile parses a hostfile: one host per line as "NAME [slots=N]", '#' starts a
// comment, blank lines are skipped. A host without slots= has one slot; a host listed twice
// adds up its slots.
func ParseHostfile(r io.Reader) ([]Host, error) {
	var hosts []Host
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		h := Host{Name: fields[0], Slots: 1}
		for _, f := range fields[1:] {
			key, val, ok := strings.Cut(f, "=")
			if !ok || key != "slots" {
				return nil, fmt.Errorf("launcher: hostfile line %d: unknown field %q (want slots=N)", line, f)
			}
			n, err := parseSlots(val)
			if err != nil {
				return nil, fmt.Errorf("launcher: hostfile line %d: %w", line, err)
			}
			h.Slots = n
		}
		hosts = addHost(hosts, h)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("launcher: read hostfile: %w", err)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("launcher: hostfile lists no host")
	}
	return hosts, nil
}

// ReadHostfile reads and parses the hostfile at path (see ParseHostfile).
func ReadHostfile(path string) ([]Host, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("launcher: %w", err)
	}
	defer f.Close()
	hosts, err := ParseHostfile(f)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return hosts, nil
}

func parseSlots(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("slots %q: want a positive integer", s)
	}
	return n, nil
}

func addHost(hosts []Host, h Host) []Host {
	for i := range hosts {
		if hosts[i].Name == h.Name {
			hosts[i].Slots += h.Slots
			return hosts
		}
	}
	return append(hosts, h)
}

// Slot is where one rank runs.
type Slot struct {
	Rank      int
	Host      string // the host's name; "localhost" for a job without hosts
	Local     bool   // started directly, not through the launch agent
	LocalRank int    // rank among the ranks on the same host
	LocalSize int    // number of ranks on the same host
}

// Place puts np ranks on hosts by slot: the first host's slots take ranks 0, 1, ..., then the
// next host's, and so on; when every slot is taken and ranks remain, placement starts over
// at the first host (oversubscription needs no flag). With no hosts, every rank is local.
func Place(hosts []Host, np int) []Slot {
	if len(hosts) == 0 {
		hosts = []Host{{Name: "localhost", Slots: np}}
	}
	slots := make([]Slot, 0, np)
	for len(slots) < np {
		for _, h := range hosts {
			for range max(h.Slots, 1) {
				if len(slots) == np {
					break
				}
				slots = append(slots, Slot{Rank: len(slots), Host: h.Name, Local: isLocalName(h.Name)})
			}
		}
	}
	count := make(map[string]int)
	for i := range slots {
		slots[i].LocalRank = count[slots[i].Host]
		count[slots[i].Host]++
	}
	for i := range slots {
		slots[i].LocalSize = count[slots[i].Host]
	}
	return slots
}

// TotalSlots is the sum of the hosts' slots: the default number of ranks when hosts are given.
func TotalSlots(hosts []Host) int {
	n := 0
	for _, h := range hosts {
		n += h.Slots
	}
	return n
}
