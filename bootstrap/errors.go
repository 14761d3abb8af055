package bootstrap

import "errors"

// Sentinel errors of the bootstrap store. Errors returned by MemStore, Server and Client wrap
// one of them (or a context error), so callers test with errors.Is.
var (
	// ErrKeyExists: Set was called for a key that already has a value.
	ErrKeyExists = errors.New("bootstrap: key already set")
	// ErrTooLarge: a key or value exceeds MaxKeyLen or MaxValueLen.
	ErrTooLarge = errors.New("bootstrap: key or value too large")
	// ErrAuth: the other side of a connection did not prove knowledge of the job secret.
	ErrAuth = errors.New("bootstrap: authentication failed")
	// ErrProtocol: the other side sent bytes that are not a valid bootstrap message.
	ErrProtocol = errors.New("bootstrap: protocol error")
	// ErrClosed: the store, server or client is closed, or the connection to the server was lost.
	ErrClosed = errors.New("bootstrap: closed")
	// ErrRankGone: Get waited for a key of a rank (see KeyRank) that ended before it set it
	// (MarkGone): the key will never be set, and the job cannot start.
	ErrRankGone = errors.New("bootstrap: rank gone")
)

// Limits on what the store accepts. They bound what a connection can make the server allocate:
// addresses and small tables fit easily.
const (
	MaxKeyLen   = 1024    // bytes in a key
	MaxValueLen = 1 << 20 // bytes in a value
)

func checkSizes(key string, value []byte) error {
	if len(key) > MaxKeyLen {
		return errorf(ErrTooLarge, "key of %d bytes exceeds %d", len(key), MaxKeyLen)
	}
	if len(value) > MaxValueLen {
		return errorf(ErrTooLarge, "value of %d bytes for key %q exceeds %d", len(value), key, MaxValueLen)
	}
	return nil
}
