package pmi

import (
	"errors"
	"fmt"
)

// ErrServer is wrapped by every error the PMI server reported (a non-zero rc); test with errors.Is.
var ErrServer = errors.New("pmi: the server refused the request")

// ErrProtocol is wrapped by errors about bytes from the server that do not follow the protocol.
var ErrProtocol = errors.New("pmi: protocol error")

// ServerError is a request the PMI server answered with a non-zero rc.
type ServerError struct {
	Cmd string // the request, e.g. "kvs-fence" or "put"
	RC  int    // the server's return code
	Msg string // the server's message (errmsg= or msg=), if it sent one
}

// Error says which request failed and what the server answered.
func (e *ServerError) Error() string {
	s := fmt.Sprintf("pmi: %s: the server answered rc=%d", e.Cmd, e.RC)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Unwrap makes errors.Is(err, ErrServer) hold.
func (e *ServerError) Unwrap() error { return ErrServer }

// protoErr reports a protocol violation during cmd.
func protoErr(cmd, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrProtocol, cmd, fmt.Sprintf(format, args...))
}
