package query

import (
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// JC renders canonical extended JSON, which shows numeric types.
func JC(t testing.TB, r bson.Raw) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(r, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApply(t *testing.T) {
	cases := []struct {
		doc, update, want string
		changed           bool
	}{
		// $set: existing, new (lexicographic order), nested creation, arrays
		{`{"_id": 1, "a": 1}`, `{"$set": {"a": 2}}`, `{"_id":1,"a":2}`, true},
		{`{"_id": 1, "a": 1}`, `{"$set": {"a": 1}}`, `{"_id":1,"a":1}`, false},
		{`{"_id": 1}`, `{"$set": {"z": 1, "b": 2}}`, `{"_id":1,"b":2,"z":1}`, true},
		{`{"_id": 1}`, `{"$set": {"a.b.c": 1}}`, `{"_id":1,"a":{"b":{"c":1}}}`, true},
		{`{"_id": 1, "a": {"x": 1}}`, `{"$set": {"a.y": 2}}`, `{"_id":1,"a":{"x":1,"y":2}}`, true},
		{`{"_id": 1, "a": [1, 2]}`, `{"$set": {"a.1": 9}}`, `{"_id":1,"a":[1,9]}`, true},
		{`{"_id": 1, "a": [1]}`, `{"$set": {"a.3": 9}}`, `{"_id":1,"a":[1,null,null,9]}`, true},
		{`{"_id": 1, "a": [{"b": 1}]}`, `{"$set": {"a.0.b": 2}}`, `{"_id":1,"a":[{"b":2}]}`, true},
		{`{"_id": 1}`, `{"$set": {"a.0": 1}}`, `{"_id":1,"a":{"0":1}}`, true},
		{`{"_id": 1, "a": 1}`, `{"$set": {}}`, `{"_id":1,"a":1}`, false},
		// $unset
		{`{"_id": 1, "a": 1, "b": 2}`, `{"$unset": {"a": ""}}`, `{"_id":1,"b":2}`, true},
		{`{"_id": 1}`, `{"$unset": {"a.b": 1}}`, `{"_id":1}`, false},
		{`{"_id": 1, "a": 5}`, `{"$unset": {"a.b": 1}}`, `{"_id":1,"a":5}`, false},
		{`{"_id": 1, "a": [1, 2]}`, `{"$unset": {"a.0": 1}}`, `{"_id":1,"a":[null,2]}`, true},
		// $inc / $mul promotion
		{`{"_id": 1, "a": 1}`, `{"$inc": {"a": 2}}`, `{"_id":1,"a":3}`, true},
		{`{"_id": 1}`, `{"$inc": {"a": 2}}`, `{"_id":1,"a":2}`, true},
		{`{"_id": 1, "a": 2}`, `{"$mul": {"a": 3}}`, `{"_id":1,"a":6}`, true},
		{`{"_id": 1}`, `{"$mul": {"a": 3}}`, `{"_id":1,"a":0}`, true},
		// $min / $max
		{`{"_id": 1, "a": 5}`, `{"$min": {"a": 3}}`, `{"_id":1,"a":3}`, true},
		{`{"_id": 1, "a": 5}`, `{"$min": {"a": 7}}`, `{"_id":1,"a":5}`, false},
		{`{"_id": 1, "a": 5}`, `{"$max": {"a": 7}}`, `{"_id":1,"a":7}`, true},
		{`{"_id": 1, "a": 5}`, `{"$max": {"a": "x"}}`, `{"_id":1,"a":"x"}`, true},
		{`{"_id": 1}`, `{"$min": {"a": 1}}`, `{"_id":1,"a":1}`, true},
		// $rename
		{`{"_id": 1, "a": 1, "b": 2}`, `{"$rename": {"a": "c"}}`, `{"_id":1,"b":2,"c":1}`, true},
		{`{"_id": 1, "a": {"x": 1}}`, `{"$rename": {"a.x": "b.y"}}`, `{"_id":1,"a":{},"b":{"y":1}}`, true},
		{`{"_id": 1}`, `{"$rename": {"a": "b"}}`, `{"_id":1}`, false},
		// $setOnInsert is inactive outside upserts
		{`{"_id": 1}`, `{"$setOnInsert": {"a": 1}}`, `{"_id":1}`, false},
		// $currentDate
		{`{"_id": 1}`, `{"$currentDate": {"d": true}}`, `{"_id":1,"d":{"$date":"2024-05-01T12:00:00Z"}}`, true},
		{`{"_id": 1}`, `{"$currentDate": {"t": {"$type": "timestamp"}}}`, `{"_id":1,"t":{"$timestamp":{"t":1714564800,"i":1}}}`, true},
		// $push
		{`{"_id": 1, "a": [1]}`, `{"$push": {"a": 2}}`, `{"_id":1,"a":[1,2]}`, true},
		{`{"_id": 1}`, `{"$push": {"a": [2]}}`, `{"_id":1,"a":[[2]]}`, true},
		{`{"_id": 1, "a": [1]}`, `{"$push": {"a": {"$each": [2, 3]}}}`, `{"_id":1,"a":[1,2,3]}`, true},
		{`{"_id": 1, "a": [1, 2]}`, `{"$push": {"a": {"$each": [0], "$position": 0}}}`, `{"_id":1,"a":[0,1,2]}`, true},
		{`{"_id": 1, "a": [5, 1]}`, `{"$push": {"a": {"$each": [3], "$sort": 1, "$slice": 2}}}`, `{"_id":1,"a":[1,3]}`, true},
		{`{"_id": 1, "a": [5, 1]}`, `{"$push": {"a": {"$each": [3], "$slice": -2}}}`, `{"_id":1,"a":[1,3]}`, true},
		{`{"_id": 1, "a": [{"s": 2}, {"s": 1}]}`, `{"$push": {"a": {"$each": [{"s": 3}], "$sort": {"s": -1}}}}`, `{"_id":1,"a":[{"s":3},{"s":2},{"s":1}]}`, true},
		// $addToSet
		{`{"_id": 1, "a": [1, 2]}`, `{"$addToSet": {"a": 2.0}}`, `{"_id":1,"a":[1,2]}`, false},
		{`{"_id": 1, "a": [1]}`, `{"$addToSet": {"a": {"$each": [2, 2, 3]}}}`, `{"_id":1,"a":[1,2,3]}`, true},
		{`{"_id": 1}`, `{"$addToSet": {"a": {"x": 1}}}`, `{"_id":1,"a":[{"x":1}]}`, true},
		// $pull / $pullAll / $pop
		{`{"_id": 1, "a": [1, 2, 3, 2]}`, `{"$pull": {"a": 2}}`, `{"_id":1,"a":[1,3]}`, true},
		{`{"_id": 1, "a": [1, 5, 9]}`, `{"$pull": {"a": {"$gte": 5}}}`, `{"_id":1,"a":[1]}`, true},
		{`{"_id": 1, "a": [{"b": 1, "c": 1}, {"b": 2}]}`, `{"$pull": {"a": {"b": 1}}}`, `{"_id":1,"a":[{"b":2}]}`, true},
		{`{"_id": 1, "a": ["ab", "cd"]}`, `{"$pull": {"a": {"$regularExpression": {"pattern": "^a", "options": ""}}}}`, `{"_id":1,"a":["cd"]}`, true},
		{`{"_id": 1}`, `{"$pull": {"a": 1}}`, `{"_id":1}`, false},
		{`{"_id": 1, "a": [1, 2, 3]}`, `{"$pullAll": {"a": [1, 3]}}`, `{"_id":1,"a":[2]}`, true},
		{`{"_id": 1, "a": [1, 2, 3]}`, `{"$pop": {"a": 1}}`, `{"_id":1,"a":[1,2]}`, true},
		{`{"_id": 1, "a": [1, 2, 3]}`, `{"$pop": {"a": -1}}`, `{"_id":1,"a":[2,3]}`, true},
		{`{"_id": 1, "a": []}`, `{"$pop": {"a": 1}}`, `{"_id":1,"a":[]}`, false},
		// several operators at once
		{`{"_id": 1, "n": 1, "s": "x"}`, `{"$inc": {"n": 1}, "$set": {"s": "y"}, "$unset": {"q": 1}}`, `{"_id":1,"n":2,"s":"y"}`, true},
		// _id unchanged by an equal value
		{`{"_id": 1, "a": 1}`, `{"$set": {"_id": 1}}`, `{"_id":1,"a":1}`, false},
		// replacement keeps _id first
		{`{"_id": 1, "a": 1}`, `{"b": 2}`, `{"_id":1,"b":2}`, true},
		{`{"_id": 1, "a": 1}`, `{"b": 2, "_id": 1}`, `{"_id":1,"b":2}`, true},
		{`{"_id": 1, "a": 1}`, `{}`, `{"_id":1}`, true},
		{`{"_id": 1, "a": 1}`, `{"a": 1}`, `{"_id":1,"a":1}`, false},
	}
	for _, c := range cases {
		u, err := ParseUpdate(D(t, c.update))
		if err != nil {
			t.Errorf("ParseUpdate(%s): %v", c.update, err)
			continue
		}
		out, changed, err := u.Apply(D(t, c.doc), testNow)
		if err != nil {
			t.Errorf("Apply(%s, %s): %v", c.doc, c.update, err)
			continue
		}
		if got := J(t, out); got != c.want || changed != c.changed {
			t.Errorf("Apply(%s, %s) = %s changed=%v, want %s changed=%v", c.doc, c.update, got, changed, c.want, c.changed)
		}
		if err := out.Validate(); err != nil {
			t.Errorf("Apply(%s, %s): invalid BSON: %v", c.doc, c.update, err)
		}
	}
}

func TestApplyNumericTypes(t *testing.T) {
	cases := []struct{ doc, update, want string }{
		{`{"a": 1}`, `{"$inc": {"a": 1}}`, `{"a":{"$numberInt":"2"}}`},
		{`{"a": 2147483647}`, `{"$inc": {"a": 1}}`, `{"a":{"$numberLong":"2147483648"}}`},
		{`{"a": 1}`, `{"$inc": {"a": {"$numberLong": "1"}}}`, `{"a":{"$numberLong":"2"}}`},
		{`{"a": 1}`, `{"$inc": {"a": 0.5}}`, `{"a":{"$numberDouble":"1.5"}}`},
		{`{"a": {"$numberLong": "5"}}`, `{"$mul": {"a": 2}}`, `{"a":{"$numberLong":"10"}}`},
		{`{"a": 65536}`, `{"$mul": {"a": 65536}}`, `{"a":{"$numberLong":"4294967296"}}`},
		{`{"a": {"$numberDecimal": "1.5"}}`, `{"$inc": {"a": 1}}`, `{"a":{"$numberDecimal":"2.5"}}`},
		{`{"a": 2}`, `{"$mul": {"a": {"$numberDecimal": "1.5"}}}`, `{"a":{"$numberDecimal":"3.0"}}`},
		{`{}`, `{"$mul": {"a": {"$numberLong": "3"}}}`, `{"a":{"$numberLong":"0"}}`},
	}
	for _, c := range cases {
		u, err := ParseUpdate(D(t, c.update))
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := u.Apply(D(t, c.doc), testNow)
		if err != nil {
			t.Fatalf("%s %s: %v", c.doc, c.update, err)
		}
		if got := JC(t, out); got != c.want {
			t.Errorf("%s %s = %s, want %s", c.doc, c.update, got, c.want)
		}
	}
}

func TestUpdateErrors(t *testing.T) {
	cases := []struct {
		doc, update string
		parse       bool // error expected from ParseUpdate rather than Apply
		code        mongoerr.Code
		msg         string
	}{
		{``, `{"$set": {"a": 1}, "b": 1}`, true, mongoerr.FailedToParse, "Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array"},
		{``, `{"$foo": {"a": 1}}`, true, mongoerr.FailedToParse, "Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array"},
		{``, `{"a": 1, "$set": {"b": 1}}`, true, mongoerr.DollarPrefixedFieldName, "The dollar ($) prefixed field '$set' in '$set' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith."},
		{``, `{"$set": 1}`, true, mongoerr.FailedToParse, "Modifiers operate on fields but we found type int instead. For example: {$mod: {<field>: ...}} not {$set: 1}"},
		{``, `{"$set": {"a": 1}, "$inc": {"a": 1}}`, true, mongoerr.ConflictingUpdateOperators, "Updating the path 'a' would create a conflict at 'a'"},
		{``, `{"$set": {"a.b": 1}, "$unset": {"a": 1}}`, true, mongoerr.ConflictingUpdateOperators, "Updating the path 'a' would create a conflict at 'a'"},
		{``, `{"$set": {"a": 1}, "$rename": {"b": "a.c"}}`, true, mongoerr.ConflictingUpdateOperators, "Updating the path 'a.c' would create a conflict at 'a'"},
		{``, `{"$set": {"a..b": 1}}`, true, mongoerr.EmptyFieldName, "The update path 'a..b' contains an empty field name, which is not allowed."},
		{``, `{"$set": {"a.$.b": 1}}`, true, mongoerr.BadValue, ""},
		{``, `{"$inc": {"a": "x"}}`, true, mongoerr.TypeMismatch, `Cannot increment with non-numeric argument: {a: "x"}`},
		{``, `{"$mul": {"a": null}}`, true, mongoerr.TypeMismatch, `Cannot multiply with non-numeric argument: {a: null}`},
		{``, `{"$rename": {"a": 1}}`, true, mongoerr.BadValue, "The 'to' field for $rename must be a string: a: 1"},
		{``, `{"$rename": {"a": "a"}}`, true, mongoerr.BadValue, `The source and target field for $rename must differ: a: "a"`},
		{``, `{"$pop": {"a": 2}}`, true, mongoerr.FailedToParse, "$pop expects 1 or -1, found: 2"},
		{``, `{"$push": {"a": {"$each": 1}}}`, true, mongoerr.BadValue, "The argument to $each in $push must be an array but it was of type: int"},
		{``, `{"$push": {"a": {"$each": [], "$bad": 1}}}`, true, mongoerr.BadValue, "Unrecognized clause in $push: $bad"},
		{``, `{"$currentDate": {"a": 1}}`, true, mongoerr.BadValue, ""},
		{``, `{"$pullAll": {"a": 1}}`, true, mongoerr.BadValue, "$pullAll requires an array argument but was given a int"},
		{``, `{"0": {"$set": {"a": 1}}}`, true, mongoerr.FailedToParse, ""},
		{`{"_id": 1, "x": "s"}`, `{"$inc": {"x": 1}}`, false, mongoerr.TypeMismatch, "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'x' of non-numeric type string"},
		{`{"_id": {"$oid": "0123456789abcdef01234567"}, "a": {"x": true}}`, `{"$mul": {"a.x": 1}}`, false, mongoerr.TypeMismatch, "Cannot apply $mul to a value of non-numeric type. {_id: ObjectId('0123456789abcdef01234567')} has the field 'x' of non-numeric type bool"},
		{`{"_id": 1, "a": {"$numberLong": "9223372036854775807"}}`, `{"$inc": {"a": 1}}`, false, mongoerr.BadValue, "Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: 1}"},
		{`{"_id": 1}`, `{"$set": {"_id": 2}}`, false, mongoerr.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{`{"_id": 1}`, `{"$unset": {"_id": 1}}`, false, mongoerr.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{`{"_id": 1}`, `{"_id": 2, "a": 1}`, false, mongoerr.ImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2"},
		{`{"_id": 1, "a": 5}`, `{"$set": {"a.b": 1}}`, false, pathNotViable, "Cannot create field 'b' in element {a: 5}"},
		{`{"_id": 1, "a": [{"b": 1}]}`, `{"$set": {"a.b": 2}}`, false, pathNotViable, "Cannot create field 'b' in element {a: [{b: 1}]}"},
		{`{"_id": 1, "a": 5}`, `{"$push": {"a": 1}}`, false, mongoerr.BadValue, "The field 'a' must be an array but is of type int in document {_id: 1}"},
		{`{"_id": 1, "a": 5}`, `{"$addToSet": {"a": 1}}`, false, mongoerr.BadValue, "Cannot apply $addToSet to non-array field. Field named 'a' has non-array type int"},
		{`{"_id": 1, "a": 5}`, `{"$pop": {"a": 1}}`, false, mongoerr.TypeMismatch, "Path 'a' contains an element of non-array type 'int'"},
		{`{"_id": 1, "a": 5}`, `{"$pull": {"a": 1}}`, false, mongoerr.BadValue, "Cannot apply $pull to a non-array value"},
		{`{"_id": 1, "a": [{"b": 1}]}`, `{"$rename": {"a.b": "c"}}`, false, mongoerr.BadValue, "The source field cannot be an array element, 'a.b' in doc with _id: 1 has an array field called 'a'"},
		{`{"_id": 1}`, `{"$set": {"_id": [1]}}`, false, mongoerr.ImmutableField, ""},
	}
	for _, c := range cases {
		u, err := ParseUpdate(D(t, c.update))
		if !c.parse {
			if err != nil {
				t.Fatalf("ParseUpdate(%s): %v", c.update, err)
			}
			_, _, err = u.Apply(D(t, c.doc), testNow)
		}
		me := wantCode(t, err, c.code, c.update)
		if c.msg != "" && me.Msg != c.msg {
			t.Errorf("%s: message\n %q\nwant\n %q", c.update, me.Msg, c.msg)
		}
	}
}

func TestParseUpdateValuePipeline(t *testing.T) {
	arr := V(t, `[{"$set": {"a": 1}}]`)
	_, err := ParseUpdateValue(arr)
	wantCode(t, err, mongoerr.FailedToParse, "pipeline")
	u, err := ParseUpdateValue(V(t, `{"a": 1}`))
	if err != nil || !u.IsReplacement() {
		t.Fatalf("replacement: %v %v", u, err)
	}
	u, err = ParseUpdate(D(t, `{"$set": {"a": 1}}`))
	if err != nil || u.IsReplacement() {
		t.Fatalf("operators: %v %v", u, err)
	}
}

func TestUpsertDoc(t *testing.T) {
	cases := []struct {
		filter, update, want string
		code                 mongoerr.Code
	}{
		{`{"_id": 7, "a": 1}`, `{"$set": {"b": 2}}`, `{"_id":7,"a":1,"b":2}`, 0},
		{`{"a": 1, "_id": 7}`, `{"$inc": {"n": 1}}`, `{"_id":7,"a":1,"n":1}`, 0},
		{`{"a.b": 1, "c": {"$gt": 5}}`, `{"$setOnInsert": {"d": 1}}`, `{"a":{"b":1},"d":1}`, 0},
		{`{"a": 1}`, `{"$set": {"a": 2}}`, `{"a":2}`, 0},
		{`{"$and": [{"x": 1}, {"y": 2}]}`, `{"$set": {"z": 3}}`, `{"x":1,"y":2,"z":3}`, 0},
		{`{"_id": 7}`, `{"a": 1}`, `{"_id":7,"a":1}`, 0},
		{`{"q": 1}`, `{"a": 1}`, `{"a":1}`, 0},
		{`{"_id": 7}`, `{"_id": 8}`, ``, mongoerr.ImmutableField},
		{`{"_id": 7}`, `{"$set": {"_id": 8}}`, ``, mongoerr.ImmutableField},
		{`{"a": 1, "a.b": 2}`, `{"$set": {"c": 1}}`, ``, mongoerr.Code(54)},
		{`{"a": {"$foo": 1}}`, `{"$set": {"c": 1}}`, ``, mongoerr.BadValue},
		{`{"_id": [1]}`, `{"$set": {"c": 1}}`, ``, mongoerr.InvalidIdField},
	}
	for _, c := range cases {
		u, err := ParseUpdate(D(t, c.update))
		if err != nil {
			t.Fatal(err)
		}
		out, err := u.UpsertDoc(D(t, c.filter), testNow)
		wantCode(t, err, c.code, c.filter+" "+c.update)
		if c.code == 0 && J(t, out) != c.want {
			t.Errorf("UpsertDoc(%s, %s) = %s, want %s", c.filter, c.update, J(t, out), c.want)
		}
	}
}

func TestEnsureIDAndSetPath(t *testing.T) {
	oid := bson.ObjectID{1, 2, 3}
	got := EnsureID(D(t, `{"a": 1}`), oid)
	if got.Lookup("_id").ObjectID() != oid || J(t, got) != `{"_id":{"$oid":"010203000000000000000000"},"a":1}` {
		t.Fatal(J(t, got))
	}
	if J(t, EnsureID(D(t, `{"_id": 3}`), oid)) != `{"_id":3}` {
		t.Fatal("EnsureID replaced an existing _id")
	}
	out, err := SetPath(D(t, `{"a": {"b": 1}}`), "a.c.d", V(t, `"x"`))
	if err != nil || J(t, out) != `{"a":{"b":1,"c":{"d":"x"}}}` {
		t.Fatal(J(t, out), err)
	}
	_, err = SetPath(D(t, `{"a": 1}`), "a.b", V(t, `1`))
	wantCode(t, err, pathNotViable, "SetPath through scalar")
}
