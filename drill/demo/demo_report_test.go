package demo

import (
	"bytes"
	"strings"
	"testing"
)

// TestSummaryElectionOffset: the narration states mongod's randomized election offset right:
// up to 15 % of electionTimeoutMillis, 1.5 s at the 10 s default
// (replication_coordinator_impl.cpp _getRandomizedElectionOffset_inlock), not "1.15 s".
func TestSummaryElectionOffset(t *testing.T) {
	var buf bytes.Buffer
	d := &demo{out: &buf}
	d.printSummary(&failoverResult{killed: "127.0.0.2:27017", problem: "test"})
	out := buf.String()
	if strings.Contains(out, "1.15") {
		t.Fatalf("summary still says 1.15 s:\n%s", out)
	}
	if !strings.Contains(out, "up to 15 % of it (1.5 s)") {
		t.Fatalf("summary does not state the 15 %% / 1.5 s offset:\n%s", out)
	}
}
