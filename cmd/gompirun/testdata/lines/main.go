// Command lines is a test rank for gompirun's output forwarding: it writes LINES lines of
// WIDTH bytes (arguments; default 10000 and 200) to standard output, in writes of varying
// sizes that cut lines at arbitrary places, so the launcher must put lines back together.
// Line i of rank r is Line(r, i): "r=R i=I " and filler up to WIDTH bytes.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	rank, _ := strconv.Atoi(os.Getenv("GOMPI_RANK"))
	lines, width := 10000, 200
	if len(os.Args) > 1 {
		lines, _ = strconv.Atoi(os.Args[1])
	}
	if len(os.Args) > 2 {
		width, _ = strconv.Atoi(os.Args[2])
	}
	var all []byte
	for i := range lines {
		all = append(all, line(rank, i, width)...)
		all = append(all, '\n')
	}
	// Write in chunks of 1..4096 bytes (a fixed pseudo-random sequence per rank).
	x := uint32(rank*7919 + 1)
	for len(all) > 0 {
		x = x*1664525 + 1013904223
		n := int(x>>20)%4096 + 1
		n = min(n, len(all))
		if _, err := os.Stdout.Write(all[:n]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		all = all[n:]
	}
}

// line is line i of rank r, width bytes long without the newline.
func line(r, i, width int) string {
	s := fmt.Sprintf("r=%d i=%d ", r, i)
	b := []byte(s)
	for len(b) < width {
		b = append(b, byte('a'+(r+i+len(b))%26))
	}
	return string(b[:width])
}
