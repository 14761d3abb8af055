package tcp

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/gompi/gompi/transport"
)

func TestHeaderGolden(t *testing.T) {
	cases := []struct {
		h    transport.Header
		want string
	}{
		{transport.Header{Kind: transport.RTS, Flags: 1, Context: 0x01020304, Tag: 7, Length: 1 << 20, ID: 9, Aux: 0xAABB},
			"02" + "02" + "0001" + "01020304" + "00000007" + "00000000" +
				"0000000000100000" + "0000000000000009" + "000000000000aabb" + "0000000000000000"},
		{transport.Header{Kind: transport.Data, Context: 6, Tag: 0x7fffffff, Length: 256 << 10, Aux: 0x0102030405060708, Offset: 3 << 30},
			"02" + "04" + "0000" + "00000006" + "7fffffff" + "00000000" +
				"0000000000040000" + "0000000000000000" + "0102030405060708" + "00000000c0000000"},
	}
	for _, tc := range cases {
		var b [headerSize]byte
		encodeHeader(&b, &tc.h)
		if got := hex.EncodeToString(b[:]); got != tc.want {
			t.Fatalf("encoded %v header\n got %s\nwant %s", tc.h.Kind, got, tc.want)
		}
		got, err := decodeHeader(&b, DefaultEagerLimit)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.h {
			t.Fatalf("round trip: got %+v, want %+v", got, tc.h)
		}
	}
}

func TestHeaderSize(t *testing.T) {
	var b [headerSize]byte
	if len(b) != 48 {
		t.Fatalf("header is %d bytes; the wire format (docs/PROTOCOL.md) says 48", len(b))
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
		{"version 1", func(b *[headerSize]byte) { b[0] = 1 }},
		{"kind zero", func(b *[headerSize]byte) { b[1] = 0 }},
		{"kind unknown", func(b *[headerSize]byte) { b[1] = 200 }},
		{"negative tag", func(b *[headerSize]byte) { b[8] = 0x80 }},
		{"reserved", func(b *[headerSize]byte) { b[13] = 1 }},
		{"huge length", func(b *[headerSize]byte) { b[16] = 0xff }},
		{"eager over limit", func(b *[headerSize]byte) { b[20] = 1 }}, // 2^24+10 bytes
		{"offset on eager", func(b *[headerSize]byte) { b[47] = 1 }},
		{"offset on RTS", func(b *[headerSize]byte) { b[1] = byte(transport.RTS); b[46] = 1 }},
		{"data beyond 2^40", func(b *[headerSize]byte) { b[1] = byte(transport.Data); b[42] = 1 }}, // offset 2^40, length 10
		{"data offset huge", func(b *[headerSize]byte) { b[1] = byte(transport.Data); b[40] = 0x80 }},
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
	encodeHeader(&b, &transport.Header{Kind: transport.Data, Tag: 3, Length: 256 << 10, Aux: 2, Offset: 5 << 18})
	f.Add(b[:])
	encodeHeader(&b, &transport.Header{Kind: transport.Data, Length: 1, Offset: maxLength - 1})
	f.Add(b[:])
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var scratch [headerSize]byte
		h, err := readHeader(bytes.NewReader(data), &scratch, DefaultEagerLimit)
		if err != nil {
			return
		}
		if h.Length < 0 || h.Length > maxLength || (h.Kind == transport.Eager && h.Length > DefaultEagerLimit) || h.Tag < 0 ||
			h.Offset < 0 || h.Offset > maxLength-h.Length || (h.Offset != 0 && h.Kind != transport.Data) {
			t.Fatalf("accepted out-of-range header %+v", h)
		}
		var again [headerSize]byte
		encodeHeader(&again, &h)
		if !bytes.Equal(again[:], data[:headerSize]) {
			t.Fatalf("accepted header does not re-encode to its bytes: %x vs %x", again, data[:headerSize])
		}
	})
}
