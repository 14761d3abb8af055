//go:build race

package commtest

// raceEnabled: under the race detector every memory access costs several times more, and the
// Large cases run on their smallest job size only (as with -short).
const raceEnabled = true
