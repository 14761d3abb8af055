package launcher

import (
	"fmt"
	"strconv"
	"strings"
)

// maxHostlist bounds the hosts one hostlist expression may name, so that a typo such as
// node[1-999999999] fails with a message rather than exhausting memory.
const maxHostlist = 1 << 20

// ExpandHostlist expands a Slurm hostlist expression (SLURM_JOB_NODELIST, scontrol show
// hostnames) into host names, in order: comma-separated items, each a name with bracketed
// ranges, "node[01-04,07]" for node01 node02 node03 node04 node07. A range keeps the zero
// padding of its lower bound ("[08-10]": 08 09 10; "[8-10]": 8 9 10). Several brackets in one
// item expand to every combination, the leftmost varying slowest ("r[1-2]n[1-2]": r1n1 r1n2
// r2n1 r2n2), and text may follow a bracket ("a[1-2]-ib": a1-ib a2-ib; Slurm 22.05's own
// parser refuses that form, some sites' node names need it). Errors name the expression and
// what is wrong in it.
func ExpandHostlist(expr string) ([]string, error) {
	var out []string
	for _, item := range splitTop(expr) {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		names, err := expandItem(item, maxHostlist-len(out))
		if err != nil {
			return nil, fmt.Errorf("launcher: hostlist %q: %w", expr, err)
		}
		out = append(out, names...)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("launcher: hostlist %q names no host", expr)
	}
	return out, nil
}

// splitTop splits s at the commas outside brackets.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// expandItem expands one item without top-level commas: literal text and bracketed range
// lists, the combinations in order; at most limit names.
func expandItem(item string, limit int) ([]string, error) {
	names := []string{""}
	for rest := item; rest != ""; {
		open := strings.IndexByte(rest, '[')
		if open < 0 {
			if strings.IndexByte(rest, ']') >= 0 {
				return nil, fmt.Errorf("%q: ] without [", item)
			}
			for i := range names {
				names[i] += rest
			}
			break
		}
		lit := rest[:open]
		if strings.IndexByte(lit, ']') >= 0 {
			return nil, fmt.Errorf("%q: ] without [", item)
		}
		end := strings.IndexByte(rest[open:], ']')
		if end < 0 {
			return nil, fmt.Errorf("%q: [ without ]", item)
		}
		inner := rest[open+1 : open+end]
		if strings.IndexByte(inner, '[') >= 0 {
			return nil, fmt.Errorf("%q: nested [", item)
		}
		values, err := expandRanges(inner, limit)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", item, err)
		}
		if len(names)*len(values) > limit {
			return nil, fmt.Errorf("%q: more than %d hosts", item, maxHostlist)
		}
		next := make([]string, 0, len(names)*len(values))
		for _, n := range names {
			for _, v := range values {
				next = append(next, n+lit+v)
			}
		}
		names = next
		rest = rest[open+end+1:]
	}
	if len(names) == 1 && names[0] == "" {
		return nil, nil
	}
	return names, nil
}

// expandRanges expands the inside of one bracket: "01-04,07".
func expandRanges(inner string, limit int) ([]string, error) {
	var out []string
	for _, r := range strings.Split(inner, ",") {
		lo, hi, isRange := strings.Cut(r, "-")
		if !isDigits(lo) || isRange && !isDigits(hi) {
			return nil, fmt.Errorf("[%s]: %q is not a number or a range of numbers", inner, r)
		}
		if !isRange {
			out = append(out, lo)
			continue
		}
		a, errA := strconv.Atoi(lo)
		b, errB := strconv.Atoi(hi)
		if errA != nil || errB != nil || a > b {
			return nil, fmt.Errorf("[%s]: range %q does not go up", inner, r)
		}
		if b-a >= limit-len(out) {
			return nil, fmt.Errorf("[%s]: more than %d hosts", inner, maxHostlist)
		}
		for v := a; v <= b; v++ {
			s := strconv.Itoa(v)
			if pad := len(lo) - len(s); pad > 0 {
				s = strings.Repeat("0", pad) + s
			}
			out = append(out, s)
		}
	}
	return out, nil
}

func isDigits(s string) bool {
	if s == "" || len(s) > 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ExpandTasksPerNode expands Slurm's SLURM_TASKS_PER_NODE (or SLURM_JOB_CPUS_PER_NODE) syntax,
// "2(x3),1" for 2 2 2 1, into one count per node. Every count must be at least 1.
func ExpandTasksPerNode(spec string) ([]int, error) {
	var out []int
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		count, times := item, "1"
		if i := strings.IndexByte(item, '('); i >= 0 {
			rep, ok := strings.CutPrefix(item[i:], "(x")
			if !ok || !strings.HasSuffix(rep, ")") {
				return nil, fmt.Errorf("launcher: tasks per node %q: %q: want N or N(xM)", spec, item)
			}
			count, times = item[:i], strings.TrimSuffix(rep, ")")
		}
		n, err1 := strconv.Atoi(count)
		m, err2 := strconv.Atoi(times)
		if err1 != nil || err2 != nil || n < 1 || m < 1 || m > maxHostlist-len(out) {
			return nil, fmt.Errorf("launcher: tasks per node %q: %q: want N or N(xM), positive", spec, item)
		}
		for range m {
			out = append(out, n)
		}
	}
	return out, nil
}
