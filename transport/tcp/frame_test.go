package tcp

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/gompi/gompi/transport"
)

func TestHeaderGolden(t *testing.T) {
	h := transport.Header{Kind: transport.RTS, Flags: 1, Context: 0x01020304, Tag: 7, Length: 1 << 20, ID: 9, Aux: 0xAABB}
	var b [headerSize]byte
	encodeHeader(&b, &h)
	want := "01" + "02" + "0001" + "01020304" + "00000007" + "00000000" +
		"0000000000100000" + "0000000000000009" + "000000000000aabb"
	if got := hex.EncodeToString(b[:]); got != want {
		t.Fatalf("encoded header\n got %s\nwant %s", got, want)
	}
	got, err := decodeHeader(&b, DefaultEagerLimit)
	if err != nil {
		t.Fatal(err)
	}
	if got != h {
		t.Fatalf("round trip: got %+v, want %+v", got, h)
	}
}

func TestHeaderSize(t *testing.T) {
	var b [headerSize]byte
	if len(b) != 40 {
		t.Fatalf("header is %d bytes; the wire format (docs/PROTOCOL.md) says 40", len(b))
	}
}

func TestDecodeRejects(t *testing.T) {
	valid := func() [headerSize]byte {
		var b [headerSize]byte
		encodeHeader(&b, &transport.Header{Kind: transport.Eager, Tag: 1, Length: 10})
		return b
	}
	cases := []struct {
		name  string
		patch func(b *[headerSize]byte)
	}{
		{"version", func(b *[headerSize]byte) { b[0] = 9 }},
		{"kind zero", func(b *[headerSize]byte) { b[1] = 0 }},
		{"kind unknown", func(b *[headerSize]byte) { b[1] = 200 }},
		{"negative tag", func(b *[headerSize]byte) { b[8] = 0x80 }},
		{"reserved", func(b *[headerSize]byte) { b[13] = 1 }},
		{"huge length", func(b *[headerSize]byte) { b[16] = 0xff }},
		{"eager over limit", func(b *[headerSize]byte) { b[20] = 1 }}, // 2^24+10 bytes
	}
	for _, tc := range cases {
		b := valid()
		tc.patch(&b)
		if h, err := decodeHeader(&b, DefaultEagerLimit); err == nil {
			t.Errorf("%s: decoded %+v, want an error", tc.name, h)
		}
	}
}

// FuzzReadHeader feeds arbitrary bytes to the decoder: it may fail, but never panic, and what it
// accepts re-encodes to the same bytes and respects the limits.
func FuzzReadHeader(f *testing.F) {
	var b [headerSize]byte
	for _, k := range []transport.Kind{transport.Eager, transport.RTS, transport.CTS, transport.Data, transport.Cancel, transport.Bye} {
		encodeHeader(&b, &transport.Header{Kind: k, Tag: 3, Length: 100, ID: 1, Aux: 2})
		f.Add(b[:])
	}
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var scratch [headerSize]byte
		h, err := readHeader(bytes.NewReader(data), &scratch, DefaultEagerLimit)
		if err != nil {
			return
		}
		if h.Length < 0 || h.Length > maxLength || (h.Kind == transport.Eager && h.Length > DefaultEagerLimit) || h.Tag < 0 {
			t.Fatalf("accepted out-of-range header %+v", h)
		}
		var again [headerSize]byte
		encodeHeader(&again, &h)
		if !bytes.Equal(again[:], data[:headerSize]) {
			t.Fatalf("accepted header does not re-encode to its bytes: %x vs %x", again, data[:headerSize])
		}
	})
}
