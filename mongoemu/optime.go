package mongoemu

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// opTime is (ts, term), compared term first then ts (spec §5.1). The null optime has term -1.
type opTime struct {
	ts   bson.Timestamp
	term int64
}

var nullOpTime = opTime{term: -1}

func (o opTime) isNull() bool { return o.ts.T == 0 && o.ts.I == 0 }

// compare orders by term, then timestamp; when either term is uninitialized (-1: the
// "initiating set" entry, a null optime) only timestamps are compared (OpTime::operator<,
// optime.h), so (Timestamp(0, 0), 0), pv1's smallest optime, is not above the initiate entry.
func (o opTime) compare(p opTime) int {
	switch {
	case o.term == -1 || p.term == -1:
	case o.term < p.term:
		return -1
	case o.term > p.term:
		return 1
	}
	return compareTS(o.ts, p.ts)
}

func (o opTime) less(p opTime) bool { return o.compare(p) < 0 }

func compareTS(a, b bson.Timestamp) int {
	switch {
	case a.T < b.T:
		return -1
	case a.T > b.T:
		return 1
	case a.I < b.I:
		return -1
	case a.I > b.I:
		return 1
	}
	return 0
}

func (o opTime) doc() bson.D {
	return bson.D{{Key: "ts", Value: o.ts}, {Key: "t", Value: o.term}}
}

// date is the optime's second-precision date (hello lastWriteDate, status optimeDate).
func (o opTime) date() bson.DateTime { return bson.DateTime(int64(o.ts.T) * 1000) }

func opTimeFromDoc(d bson.Raw) (opTime, bool) {
	t, i, ok := d.Lookup("ts").TimestampOK()
	if !ok {
		return opTime{}, false
	}
	term, ok := numberAsInt64(d.Lookup("t"))
	if !ok {
		return opTime{}, false
	}
	return opTime{ts: bson.Timestamp{T: t, I: i}, term: term}, true
}

func opTimeFromValue(v bson.RawValue) (opTime, bool) {
	d, ok := v.DocumentOK()
	if !ok {
		return opTime{}, false
	}
	return opTimeFromDoc(d)
}

func dateOf(t time.Time) bson.DateTime {
	if t.IsZero() {
		return bson.DateTime(0)
	}
	return bson.DateTime(t.UnixMilli())
}
