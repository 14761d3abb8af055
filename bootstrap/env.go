package bootstrap

import (
	"encoding/hex"
	"fmt"
	"os"
)

// SecretFromEnv returns the job secret a rank was started with: the bytes whose hex encoding
// gompirun put in GOMPI_SECRET. gompirun's Server was created with these same bytes, so they
// are what Dial and the transports' handshakes take.
func SecretFromEnv() ([]byte, error) {
	s := os.Getenv(EnvSecret)
	if s == "" {
		return nil, fmt.Errorf("bootstrap: %s is not set (not started by gompirun?)", EnvSecret)
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("bootstrap: %s is not a hex string", EnvSecret)
	}
	return b, nil
}
