package query

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func benchDoc(b *testing.B) bson.Raw {
	return D(b, `{"_id": {"$oid": "65f1c0ffee0000000000abcd"}, "name": "member-3", "state": 1, "optime": {"ts": {"$timestamp": {"t": 1, "i": 2}}, "t": {"$numberLong": "7"}}, "tags": ["dc1", "rack2"], "n": 42}`)
}

func BenchmarkMatchIDEquality(b *testing.B) {
	doc := benchDoc(b)
	m, err := NewMatcher(D(b, `{"_id": {"$oid": "65f1c0ffee0000000000abcd"}}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !m.Match(doc) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchCompound(b *testing.B) {
	doc := benchDoc(b)
	m, err := NewMatcher(D(b, `{"state": {"$in": [1, 2]}, "optime.t": {"$gte": 5}, "tags": "rack2"}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !m.Match(doc) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkParseAndMatchID(b *testing.B) {
	doc := benchDoc(b)
	filter := D(b, `{"_id": {"$oid": "65f1c0ffee0000000000abcd"}}`)
	b.ReportAllocs()
	for b.Loop() {
		m, err := NewMatcher(filter)
		if err != nil || !m.Match(doc) {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplySet(b *testing.B) {
	doc := benchDoc(b)
	u, err := ParseUpdate(D(b, `{"$set": {"state": 2, "optime.t": {"$numberLong": "8"}}}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := u.Apply(doc, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyInc(b *testing.B) {
	doc := benchDoc(b)
	u, err := ParseUpdate(D(b, `{"$inc": {"n": 1}}`))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := u.Apply(doc, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
