//go:build race

package main

// raceEnabled: under the race detector every byte a copy touches has shadow memory several
// times its size, which a value of gibibytes cannot afford.
const raceEnabled = true
