package main

import (
	"strings"
	"testing"
)

// --keep-going: rank 1 exits 3 at once, rank 0 outlives it (it waits until gompirun has
// reaped rank 1) and prints; gompirun exits 3 and names rank 1.
func TestKeepGoing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := `case $GOMPI_RANK in
1) echo $$ > ` + dir + `/pid.tmp; mv ` + dir + `/pid.tmp ` + dir + `/pid; exit 3;;
*) while [ ! -e ` + dir + `/pid ]; do sleep 0.01; done
   while kill -0 $(cat ` + dir + `/pid) 2>/dev/null; do sleep 0.01; done
   echo "rank $GOMPI_RANK went on";;
esac`
	res := gompirun(t, "", "-n", "3", "--keep-going", "/bin/sh", "-c", script)
	if res.code != 3 {
		t.Fatalf("exit code %d, want 3; stderr %q", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "rank 0 went on") || !strings.Contains(res.stdout, "rank 2 went on") {
		t.Errorf("stdout %q: ranks 0 and 2 did not go on", res.stdout)
	}
	if !strings.Contains(res.stderr, "rank 1 exited with status 3; ranks ") || !strings.Contains(res.stderr, "but rank 1 exited with status 3") {
		t.Errorf("stderr %q does not name rank 1 when it fails and at the end", res.stderr)
	}
}
