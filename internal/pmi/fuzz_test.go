package pmi

import (
	"bufio"
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse1 feeds arbitrary lines to the PMI-1 reader: it never panics, and what it accepts
// survives a round trip through encode1.
func FuzzParse1(f *testing.F) {
	for _, s := range []string{
		"cmd=response_to_init rc=0 pmi_version=1 pmi_subversion=1\n",
		"cmd=get_result rc=0 value=(vector,(0,1,2))\n",
		"cmd=put_result rc=1 msg=some words here\n",
		"cmd=barrier_out\r\n", "=x\n", "hello\n", "\n", "cmd=a=b=c  k=\n", "cmd=x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := read1(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if m.cmd() != m[0].value || m[0].key != "cmd" {
			t.Fatalf("accepted %q without cmd first: %v", b, m)
		}
		again, err := read1(bufio.NewReader(bytes.NewReader(encode1(m))))
		if err != nil || !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip of %q: %v, %v; want %v", b, again, err, m)
		}
	})
}

// FuzzRead2 feeds arbitrary bytes to the PMI-2 reader: it never panics, and what it accepts
// survives a round trip through encode2.
func FuzzRead2(f *testing.F) {
	for _, s := range []string{
		"114   cmd=fullinit-response;rc=0;pmi-version=2;pmi-subversion=0;rank=0;size=2;appnum=-1;debugged=FALSE;pmiverbose=FALSE;",
		"46    cmd=kvs-get-response;rc=0;found=TRUE;value=v0;",
		"    13cmd=a;v=x;;y", "000000", "999999cmd", "5     cmd=;", "8     =x;cmd=y", "12x456cmd=kvs-put-response;rc=0;",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := read2(bytes.NewReader(b))
		if err != nil {
			return
		}
		if m[0].key != "cmd" {
			t.Fatalf("accepted %q without cmd first: %v", b, m)
		}
		again, err := read2(bytes.NewReader(encode2(m)))
		if err != nil || !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip of %q: %v, %v; want %v", b, again, err, m)
		}
	})
}

// FuzzMapping: ParseMapping never panics, and Nodes of what it accepts gives every rank a
// node from the mapping.
func FuzzMapping(f *testing.F) {
	for _, s := range []string{"(vector,(0,1,4))", "(vector,(0,2,1),(2,1,3))", "(vector)", "(vector,(0,0,0))", "(vector,(16777216,16777216,16777216))"} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, size int) {
		b, err := ParseMapping(s)
		if err != nil || size < 1 || size > 4096 {
			return
		}
		nodes, err := Nodes(b, size)
		if err != nil {
			if !strings.Contains(err.Error(), "places no rank") {
				t.Fatalf("Nodes(%q): %v", s, err)
			}
			return
		}
		if len(nodes) != size {
			t.Fatalf("Nodes(%q, %d) gave %d nodes", s, size, len(nodes))
		}
		for r := range size {
			local, idx := Local(nodes, r)
			if local[idx] != r {
				t.Fatalf("Local(%v, %d) = %v, %d", nodes, r, local, idx)
			}
		}
	})
}
