package pmi

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what the client accepts from a server. Slurm and MPICH cap a PMI-1 line at 1024
// bytes and a PMI-2 message at 64 KiB; a PMI-1 line is allowed more here because a 1024-byte
// value comes with its key and cmd.
const (
	maxLine1 = 4096     // bytes in one PMI-1 line, newline included
	maxMsg2  = 64 << 10 // bytes in one PMI-2 message body
	lenLen2  = 6        // the decimal length that opens a PMI-2 message
)

// pair is one key=value of a message.
type pair struct{ key, value string }

// message is a parsed request or answer; its first pair is cmd=.
type message []pair

// cmd returns the value of the message's cmd pair.
func (m message) cmd() string { return m[0].value }

// get returns the value of the first pair named key.
func (m message) get(key string) (string, bool) {
	for _, p := range m {
		if p.key == key {
			return p.value, true
		}
	}
	return "", false
}

// encode1 writes m as one PMI-1 line: space-separated pairs and a newline.
func encode1(m message) []byte {
	var b []byte
	for i, p := range m {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, p.value...)
	}
	return append(b, '\n')
}

// parse1 parses one PMI-1 line (without its newline). A word without '=' continues the value
// before it: servers put messages with spaces in msg= (Hydra, flux).
func parse1(line string) (message, error) {
	if i := strings.IndexFunc(line, func(r rune) bool { return r < ' ' || r == 0x7f }); i >= 0 {
		return nil, fmt.Errorf("control byte %q at %d in %q", line[i], i, clip(line))
	}
	var m message
	for _, w := range strings.Split(line, " ") {
		if w == "" {
			continue
		}
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			if len(m) == 0 {
				return nil, fmt.Errorf("word %q before any key=value", clip(w))
			}
			m[len(m)-1].value += " " + w
			continue
		}
		if k == "" {
			return nil, fmt.Errorf("empty key in %q", clip(w))
		}
		m = append(m, pair{k, v})
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("empty line")
	}
	if m[0].key != "cmd" {
		return nil, fmt.Errorf("line starts with %q, not cmd=", clip(m[0].key))
	}
	return m, nil
}

// read1 reads and parses one PMI-1 line.
func read1(r *bufio.Reader) (message, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > maxLine1 {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrProtocol, maxLine1)
		}
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return nil, fmt.Errorf("the server closed the connection")
			}
			return nil, fmt.Errorf("the server closed the connection in the middle of a line (%q)", clip(string(line)))
		}
		return nil, err
	}
	m, err := parse1(string(line[:len(line)-1]))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return m, nil
}

// encode2 writes m as one PMI-2 message: the body's length in 6 characters, then every pair
// ended by ';', with each ';' of a value doubled.
func encode2(m message) []byte {
	var body []byte
	for _, p := range m {
		body = append(body, p.key...)
		body = append(body, '=')
		body = append(body, strings.ReplaceAll(p.value, ";", ";;")...)
		body = append(body, ';')
	}
	return append([]byte(fmt.Sprintf("%-6d", len(body))), body...)
}

// parse2 parses the body of one PMI-2 message.
func parse2(body string) (message, error) {
	var m message
	for i := 0; i < len(body); {
		eq := strings.IndexAny(body[i:], "=;")
		if eq < 0 || body[i+eq] == ';' {
			return nil, fmt.Errorf("pair without '=' at byte %d of %q", i, clip(body))
		}
		if eq == 0 {
			return nil, fmt.Errorf("empty key at byte %d of %q", i, clip(body))
		}
		key := body[i : i+eq]
		i += eq + 1
		var v strings.Builder
		for i < len(body) {
			c := body[i]
			if c == ';' {
				if i+1 < len(body) && body[i+1] == ';' {
					v.WriteByte(';')
					i += 2
					continue
				}
				i++
				break
			}
			v.WriteByte(c)
			i++
		}
		m = append(m, pair{key, v.String()})
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("empty message")
	}
	if m[0].key != "cmd" {
		return nil, fmt.Errorf("message starts with %q, not cmd=", clip(m[0].key))
	}
	return m, nil
}

// read2 reads and parses one PMI-2 message.
func read2(r io.Reader) (message, error) {
	var hdr [lenLen2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, closedErr(err, "a message's length")
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(hdr[:])))
	if err != nil || n <= 0 || n > maxMsg2 {
		return nil, fmt.Errorf("%w: message length %q: want 1..%d", ErrProtocol, string(hdr[:]), maxMsg2)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, closedErr(err, fmt.Sprintf("a %d-byte message", n))
	}
	m, err := parse2(string(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return m, nil
}

// closedErr words a read error: EOF means the server closed the connection.
func closedErr(err error, what string) error {
	if err == io.EOF {
		return fmt.Errorf("the server closed the connection")
	}
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("the server closed the connection in the middle of %s", what)
	}
	return err
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
