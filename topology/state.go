package topology

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// MemberState is a replica-set member state with mongod's own numbers (spec §3.1), so values read
// from replSetGetStatus ("state", "myState") convert without a table.
type MemberState int

// The numbers are mongod's (spec §3.1, member_state.h); never renumber them.
const (
	StateStartup    MemberState = 0
	StatePrimary    MemberState = 1
	StateSecondary  MemberState = 2
	StateRecovering MemberState = 3
	StateFatal      MemberState = 4 // historic, not produced by modern servers
	StateStartup2   MemberState = 5
	StateUnknown    MemberState = 6 // as seen from another member: not yet contacted
	StateArbiter    MemberState = 7
	StateDown       MemberState = 8 // as seen from another member: unreachable
	StateRollback   MemberState = 9
	StateRemoved    MemberState = 10
)

// stateNames are the stateStr values of replSetGetStatus (spec §3.1). A constant table.
var stateNames = [...]string{
	StateStartup:    "STARTUP",
	StatePrimary:    "PRIMARY",
	StateSecondary:  "SECONDARY",
	StateRecovering: "RECOVERING",
	StateFatal:      "FATAL",
	StateStartup2:   "STARTUP2",
	StateUnknown:    "UNKNOWN",
	StateArbiter:    "ARBITER",
	StateDown:       "DOWN",
	StateRollback:   "ROLLBACK",
	StateRemoved:    "REMOVED",
}

// String returns mongod's stateStr for s.
func (s MemberState) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "MemberState(" + strconv.Itoa(int(s)) + ")"
}

// ParseMemberState maps a stateStr back to its number.
func ParseMemberState(name string) (MemberState, error) {
	for i, n := range stateNames {
		if n == name {
			return MemberState(i), nil
		}
	}
	return 0, fmt.Errorf("topology: unknown member state %q", name)
}

// Valid reports whether s is one of mongod's states.
func (s MemberState) Valid() bool { return s >= 0 && int(s) < len(stateNames) }

// MarshalJSON writes the number: gossip stays compact and matches mongod's "state" field.
func (s MemberState) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(s), 10), nil }

// UnmarshalJSON accepts the number or the stateStr name, so hand-written scenario files can say
// "PRIMARY".
func (s *MemberState) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var name string
		if err := json.Unmarshal(b, &name); err != nil {
			return fmt.Errorf("topology: member state: %w", err)
		}
		v, err := ParseMemberState(name)
		if err != nil {
			return err
		}
		*s = v
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("topology: member state: %w", err)
	}
	*s = MemberState(n)
	return nil
}
