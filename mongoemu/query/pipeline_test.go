package query

import (
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

func runPipeline(t *testing.T, stages string, docs []string) (string, error) {
	t.Helper()
	arr := V(t, stages)
	var raws []bson.Raw
	for _, s := range values(arr.Value) {
		raws = append(raws, bson.Raw(s.Value))
	}
	p, err := NewPipeline(raws)
	if err != nil {
		return "", err
	}
	var in []bson.Raw
	for _, d := range docs {
		in = append(in, D(t, d))
	}
	out, err := p.Run(in)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, d := range out {
		parts = append(parts, JC(t, d))
	}
	return strings.Join(parts, " "), nil
}

func TestPipeline(t *testing.T) {
	docs := []string{
		`{"_id": 1, "k": "a", "n": 1, "tags": ["x", "y"], "o": {"p": 1}}`,
		`{"_id": 2, "k": "b", "n": 2.5, "tags": []}`,
		`{"_id": 3, "k": "a", "n": {"$numberLong": "4"}, "tags": "z"}`,
		`{"_id": 4, "k": "c"}`,
	}
	cases := []struct{ stages, want string }{
		{`[{"$match": {"k": "a"}}, {"$project": {"n": 1}}]`,
			`{"_id":{"$numberInt":"1"},"n":{"$numberInt":"1"}} {"_id":{"$numberInt":"3"},"n":{"$numberLong":"4"}}`},
		{`[{"$sort": {"n": -1}}, {"$skip": 1}, {"$limit": 1}, {"$project": {"_id": 1}}]`,
			`{"_id":{"$numberInt":"2"}}`},
		{`[{"$count": "total"}]`, `{"total":{"$numberInt":"4"}}`},
		{`[{"$match": {"nope": 1}}, {"$count": "total"}]`, ``},
		{`[{"$group": {"_id": "$k", "s": {"$sum": "$n"}, "c": {"$sum": 1}, "mx": {"$max": "$n"}, "f": {"$first": "$n"}, "l": {"$last": "$n"}, "p": {"$push": "$n"}}}]`,
			`{"_id":"a","s":{"$numberLong":"5"},"c":{"$numberInt":"2"},"mx":{"$numberLong":"4"},"f":{"$numberInt":"1"},"l":{"$numberLong":"4"},"p":[{"$numberInt":"1"},{"$numberLong":"4"}]} ` +
				`{"_id":"b","s":{"$numberDouble":"2.5"},"c":{"$numberInt":"1"},"mx":{"$numberDouble":"2.5"},"f":{"$numberDouble":"2.5"},"l":{"$numberDouble":"2.5"},"p":[{"$numberDouble":"2.5"}]} ` +
				`{"_id":"c","s":{"$numberInt":"0"},"c":{"$numberInt":"1"},"mx":null,"f":null,"l":null,"p":[]}`},
		{`[{"$group": {"_id": null, "avg": {"$avg": "$n"}, "mn": {"$min": "$n"}, "n": {"$count": {}}}}]`,
			`{"_id":null,"avg":{"$numberDouble":"2.5"},"mn":{"$numberInt":"1"},"n":{"$numberInt":"4"}}`},
		{`[{"$group": {"_id": {"kk": "$k"}, "ids": {"$addToSet": "$k"}}}, {"$sort": {"_id.kk": -1}}, {"$limit": 1}]`,
			`{"_id":{"kk":"c"},"ids":["c"]}`},
		{`[{"$match": {"_id": 1}}, {"$addFields": {"m": "$o.p", "lit": {"$literal": "$x"}, "sub.q": 5, "gone": "$nope"}}, {"$project": {"m": 1, "lit": 1, "sub": 1, "_id": 0}}]`,
			`{"m":{"$numberInt":"1"},"lit":"$x","sub":{"q":{"$numberInt":"5"}}}`},
		{`[{"$unwind": "$tags"}, {"$project": {"tags": 1}}]`,
			`{"_id":{"$numberInt":"1"},"tags":"x"} {"_id":{"$numberInt":"1"},"tags":"y"} {"_id":{"$numberInt":"3"},"tags":"z"}`},
		{`[{"$unwind": {"path": "$tags", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}}, {"$project": {"i": 1}}]`,
			`{"_id":{"$numberInt":"1"},"i":{"$numberLong":"0"}} {"_id":{"$numberInt":"1"},"i":{"$numberLong":"1"}} {"_id":{"$numberInt":"2"},"i":null} {"_id":{"$numberInt":"3"},"i":null} {"_id":{"$numberInt":"4"},"i":null}`},
		{`[{"$match": {"_id": 1}}, {"$unset": ["tags", "o"]}, {"$set": {"r": "$$ROOT._id"}}]`,
			`{"_id":{"$numberInt":"1"},"k":"a","n":{"$numberInt":"1"},"r":{"$numberInt":"1"}}`},
	}
	for _, c := range cases {
		got, err := runPipeline(t, c.stages, docs)
		if err != nil {
			t.Errorf("%s: %v", c.stages, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.stages, got, c.want)
		}
	}
}

func TestPipelineErrors(t *testing.T) {
	cases := []struct {
		stages string
		code   mongoerr.Code
		msg    string
	}{
		{`[{"$foo": {}}]`, codeUnknownStage, "Unrecognized pipeline stage name: '$foo'"},
		{`[{"$match": {}, "$sort": {"a": 1}}]`, codeStageOneField, "A pipeline stage specification object must contain exactly one field."},
		{`[{"$limit": 0}]`, codeLimitPositive, "the limit must be positive"},
		{`[{"$skip": -1}]`, codeSkipNonNegative, ""},
		{`[{"$sort": {}}]`, codeSortEmpty, ""},
		{`[{"$sort": {"a": 2}}]`, mongoerr.BadValue, "$sort key ordering must be 1 (for ascending) or -1 (for descending)"},
		{`[{"$unwind": "tags"}]`, codeUnwindPath, ""},
		{`[{"$count": "a.b"}]`, codeCountName, ""},
		{`[{"$group": {"s": {"$sum": 1}}}]`, mongoerr.Code(15955), ""},
		{`[{"$group": {"_id": null, "s": {"$median": 1}}}]`, mongoerr.Code(15952), ""},
		{`[{"$addFields": {"a": {"$add": [1, 2]}}}]`, codeInvalidPipelineOperator, ""},
		{`[{"$addFields": {"a": "$$nope"}}]`, codeUndefinedVariable, "Use of undefined variable: nope"},
		{`[{"$match": {"a": {"$bad": 1}}}]`, mongoerr.BadValue, "unknown operator: $bad"},
	}
	for _, c := range cases {
		_, err := runPipeline(t, c.stages, nil)
		me := wantCode(t, err, c.code, c.stages)
		if c.msg != "" && me.Msg != c.msg {
			t.Errorf("%s: %q want %q", c.stages, me.Msg, c.msg)
		}
	}
}
