package topology

import (
	"encoding/json"
	"fmt"
	"time"
)

// OpTime is a replication position: the oplog entry's Timestamp and the term it was written in.
// TS packs the BSON Timestamp as secs<<32 | inc, exactly as it is stored on the wire.
type OpTime struct {
	TS   uint64
	Term int64
}

// NullOpTime is mongod's "no optime": {ts: Timestamp(0,0), t: -1} (spec §3.3).
var NullOpTime = OpTime{Term: -1}

// MakeOpTime builds an OpTime from the Timestamp's seconds and increment.
func MakeOpTime(secs, inc uint32, term int64) OpTime {
	return OpTime{TS: uint64(secs)<<32 | uint64(inc), Term: term}
}

// Secs is the Timestamp's seconds part (wall-clock seconds of the write on the primary).
func (o OpTime) Secs() uint32 { return uint32(o.TS >> 32) }

// Inc is the Timestamp's increment within its second.
func (o OpTime) Inc() uint32 { return uint32(o.TS) }

// Time is the wall-clock time of the Timestamp's seconds, like optimeDate in replSetGetStatus.
func (o OpTime) Time() time.Time { return time.Unix(int64(o.Secs()), 0).UTC() }

// IsNull reports whether o carries no position (never applied anything).
func (o OpTime) IsNull() bool { return o.TS == 0 }

// Compare orders optimes term first, then timestamp (spec §5.1): a write of a newer term is newer
// even if its timestamp is lower. It returns -1, 0 or +1.
func (o OpTime) Compare(p OpTime) int {
	switch {
	case o.Term < p.Term:
		return -1
	case o.Term > p.Term:
		return 1
	case o.TS < p.TS:
		return -1
	case o.TS > p.TS:
		return 1
	}
	return 0
}

// After reports whether o is strictly newer than p.
func (o OpTime) After(p OpTime) bool { return o.Compare(p) > 0 }

// LagBehind is how far o trails p in whole Timestamp seconds; zero when o is not behind.
func (o OpTime) LagBehind(p OpTime) time.Duration {
	if !p.After(o) || p.Secs() <= o.Secs() {
		return 0
	}
	return time.Duration(p.Secs()-o.Secs()) * time.Second
}

func (o OpTime) String() string {
	return fmt.Sprintf("{ts: Timestamp(%d, %d), t: %d}", o.Secs(), o.Inc(), o.Term)
}

// opTimeJSON is the wire form: seconds and increment apart, so people reading gossip or writing
// scenario files need not shift by 32.
type opTimeJSON struct {
	S uint32 `json:"s"`
	I uint32 `json:"i,omitempty"`
	T int64  `json:"t"`
}

// MarshalJSON writes {"s":secs,"i":inc,"t":term}.
func (o OpTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(opTimeJSON{S: o.Secs(), I: o.Inc(), T: o.Term})
}

// UnmarshalJSON reads {"s":secs,"i":inc,"t":term}.
func (o *OpTime) UnmarshalJSON(b []byte) error {
	var j opTimeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("topology: optime: %w", err)
	}
	*o = MakeOpTime(j.S, j.I, j.T)
	return nil
}
