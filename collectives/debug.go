package collectives

import (
	"os"
	"strings"
	"sync"
)

// Debugging options. GOMPI_DEBUG holds a comma-separated list of words, read once, at the first
// collective call that asks; case and spaces do not matter. Package collectives acts on
//
//	check   compare every collective's arguments across ranks before it runs (check.go)
//
// and leaves the other words alone, so that other parts of gompi can add options to the same
// list (`GOMPI_DEBUG=check,other`); a misspelt word is therefore ignored rather than refused.
// `gompirun --check-collectives` sets GOMPI_DEBUG=check for every rank. Every rank must see the
// same setting, as every rank must call the same collectives.

// debugVar is the variable's name.
const debugVar = "GOMPI_DEBUG"

// debugOptions are the words of GOMPI_DEBUG that package collectives knows.
type debugOptions struct {
	check bool // check: the collective checker (check.go)
}

// debugSettings returns the options, read once (a variable, so that tests may replace it).
var debugSettings = sync.OnceValue(func() debugOptions { return readDebug(os.Getenv(debugVar)) })

// readDebug parses the value of GOMPI_DEBUG.
func readDebug(v string) debugOptions {
	var o debugOptions
	for _, w := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(w), "check") {
			o.check = true
		}
	}
	return o
}

// checking reports whether collective calls are checked across ranks (GOMPI_DEBUG=check). Off,
// it is the only cost the checker adds to a call.
func checking() bool { return debugSettings().check }
