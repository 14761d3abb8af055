package comm

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"

	"github.com/gompi/gompi/internal/backend"
)

// SendValue sends any Go value that encoding/gob can encode (structs with exported fields, maps,
// slices, strings, ...) to rank dest with tag, like mpi4py's lowercase comm.send. The receiver
// decodes it with RecvValue into a value of a compatible type.
func (c *Comm) SendValue(v any, dest, tag int) error {
	return c.SendValueContext(context.Background(), v, dest, tag)
}

// SendValueContext is SendValue bounded by ctx.
func (c *Comm) SendValueContext(ctx context.Context, v any, dest, tag int) error {
	buf, err := encodeValue("SendValue", v, dest, tag)
	if err != nil {
		return err
	}
	return c.b.Send(ctx, buf, dest, tag)
}

// IsendValue encodes v at once and starts sending it; v may be reused as soon as IsendValue returns.
func (c *Comm) IsendValue(v any, dest, tag int) (*Request, error) {
	buf, err := encodeValue("IsendValue", v, dest, tag)
	if err != nil {
		return nil, err
	}
	r, err := c.b.Isend(buf, dest, tag)
	if err != nil {
		return nil, err
	}
	return &Request{r: r}, nil
}

// RecvValue receives a message sent with SendValue and decodes it into ptr, which must be a
// non-nil pointer (like mpi4py's lowercase comm.recv). Any length is accepted.
func (c *Comm) RecvValue(ptr any, source, tag int) (Status, error) {
	return c.RecvValueContext(context.Background(), ptr, source, tag)
}

// RecvValueContext is RecvValue bounded by ctx.
func (c *Comm) RecvValueContext(ctx context.Context, ptr any, source, tag int) (Status, error) {
	if ptr == nil {
		return Status{}, errorf("RecvValue", source, tag, ErrInvalidArgument, "nil destination")
	}
	buf, st, err := c.b.RecvAlloc(ctx, source, tag)
	if err != nil {
		return st, err
	}
	if err := gob.NewDecoder(bytes.NewReader(buf)).Decode(ptr); err != nil {
		return st, &backend.Error{Op: "RecvValue", Dir: backend.FromPeer, Peer: st.Source, Tag: st.Tag, Size: len(buf), Limit: -1,
			Msg: fmt.Sprintf("cannot decode %d-byte message into %T", len(buf), ptr), Err: ErrInvalidArgument, Cause: err}
	}
	return st, nil
}

func encodeValue(op string, v any, dest, tag int) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return nil, &backend.Error{Op: op, Dir: backend.ToPeer, Peer: dest, Tag: tag, Size: -1, Limit: -1, Msg: fmt.Sprintf("cannot encode %T", v), Err: ErrInvalidArgument, Cause: err}
	}
	return b.Bytes(), nil
}
