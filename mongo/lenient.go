package mongo

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/topology"
)

// rdoc reads fields of a reply without trusting their BSON types: mongod changed int32 to int64
// and back between versions (spec §3.4), and fields come and go with the member's state. Absent,
// null or wrongly typed fields read as the zero value or the default passed in.
type rdoc bson.Raw

func (d rdoc) val(key string) (bson.RawValue, bool) {
	if len(d) == 0 {
		return bson.RawValue{}, false
	}
	v, err := bson.Raw(d).LookupErr(key)
	if err != nil || v.Type == bson.TypeNull || v.Type == bson.TypeUndefined {
		return bson.RawValue{}, false
	}
	return v, true
}

func (d rdoc) has(key string) bool {
	_, ok := d.val(key)
	return ok
}

// int64 reads any number (int32, int64, double; booleans as 0/1).
func (d rdoc) int64(key string, def int64) int64 {
	v, ok := d.val(key)
	if !ok {
		return def
	}
	if n, ok := v.AsInt64OK(); ok {
		return n
	}
	if b, ok := v.BooleanOK(); ok {
		if b {
			return 1
		}
		return 0
	}
	return def
}

func (d rdoc) int(key string, def int) int { return int(d.int64(key, int64(def))) }

func (d rdoc) float(key string, def float64) float64 {
	v, ok := d.val(key)
	if !ok {
		return def
	}
	if f, ok := v.AsFloat64OK(); ok {
		return f
	}
	return def
}

// bool accepts a boolean or a number (non-zero is true), as mongod's own parser does.
func (d rdoc) bool(key string, def bool) bool {
	v, ok := d.val(key)
	if !ok {
		return def
	}
	if b, ok := v.BooleanOK(); ok {
		return b
	}
	if f, ok := v.AsFloat64OK(); ok {
		return f != 0
	}
	return def
}

func (d rdoc) str(key string) string {
	v, ok := d.val(key)
	if !ok {
		return ""
	}
	s, _ := v.StringValueOK()
	return s
}

func (d rdoc) strs(key string) []string {
	return arrayOf(d, key, func(v bson.RawValue) (string, bool) { return v.StringValueOK() })
}

// arrayOf reads an array, keeping the elements conv accepts and skipping anything else.
func arrayOf[T any](d rdoc, key string, conv func(bson.RawValue) (T, bool)) []T {
	v, ok := d.val(key)
	if !ok {
		return nil
	}
	arr, ok := v.ArrayOK()
	if !ok {
		return nil
	}
	vals, err := arr.Values()
	if err != nil {
		return nil
	}
	out := make([]T, 0, len(vals))
	for _, e := range vals {
		if x, ok := conv(e); ok {
			out = append(out, x)
		}
	}
	return out
}

func (d rdoc) doc(key string) (rdoc, bool) {
	v, ok := d.val(key)
	if !ok {
		return nil, false
	}
	sub, ok := v.DocumentOK()
	return rdoc(sub), ok
}

// docs reads an array of documents, skipping anything else.
func (d rdoc) docs(key string) []rdoc {
	return arrayOf(d, key, func(v bson.RawValue) (rdoc, bool) {
		sub, ok := v.DocumentOK()
		return rdoc(sub), ok
	})
}

// time reads a BSON date (or a Timestamp's seconds). The epoch, mongod's "never" (spec §3.3),
// reads as the zero time so that omitzero JSON and IsZero checks treat it as absent.
func (d rdoc) time(key string) time.Time {
	v, ok := d.val(key)
	if !ok {
		return time.Time{}
	}
	var t time.Time
	switch v.Type {
	case bson.TypeDateTime:
		t = time.UnixMilli(v.DateTime()).UTC()
	case bson.TypeTimestamp:
		secs, _ := v.Timestamp()
		t = time.Unix(int64(secs), 0).UTC()
	default:
		return time.Time{}
	}
	if t.Unix() == 0 && t.Nanosecond() == 0 {
		return time.Time{}
	}
	return t
}

func (d rdoc) millis(key string, def int64) time.Duration {
	return time.Duration(d.int64(key, def)) * time.Millisecond
}

// opTime reads {ts: Timestamp, t: NumberLong}. A bare Timestamp (protocol version 0 replies) has
// no term and reads with term -1. Absent reads as topology.NullOpTime.
func (d rdoc) opTime(key string) topology.OpTime {
	v, ok := d.val(key)
	if !ok {
		return topology.NullOpTime
	}
	if secs, inc, ok := v.TimestampOK(); ok {
		return topology.MakeOpTime(secs, inc, -1)
	}
	sub, ok := v.DocumentOK()
	if !ok {
		return topology.NullOpTime
	}
	o := rdoc(sub)
	secs, inc := uint32(0), uint32(0)
	if ts, ok := o.val("ts"); ok {
		secs, inc, _ = ts.TimestampOK()
	}
	return topology.MakeOpTime(secs, inc, o.int64("t", -1))
}

// tags reads a {string: string} document; non-string values are skipped.
func (d rdoc) tags(key string) map[string]string {
	sub, ok := d.doc(key)
	if !ok {
		return nil
	}
	elems, err := bson.Raw(sub).Elements()
	if err != nil || len(elems) == 0 {
		return nil
	}
	out := make(map[string]string, len(elems))
	for _, e := range elems {
		if s, ok := e.Value().StringValueOK(); ok {
			out[e.Key()] = s
		}
	}
	return out
}
