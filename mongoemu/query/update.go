package query

import (
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

// Update is a parsed update: either operators or a replacement document.
// It is immutable and safe for concurrent use.
type Update struct {
	replacement bson.Raw // non-nil for a replacement update
	ops         []updateOp
}

// updateOp is one (operator, path) pair, e.g. $inc on "a.b".
type updateOp struct {
	op    string
	parts []string
	arg   bson.RawValue
	// $rename
	to []string
	// $push and $addToSet
	each     []bson.RawValue
	slice    *int64
	position *int64
	sort     *Sort // nil unless $sort; whole-element sort has no keys
	sortDesc bool
	// $pull
	pull *pred
	// $currentDate: timestamp instead of date
	ts bool
}

func (op *updateOp) path() string { return strings.Join(op.parts, ".") }

// ParseUpdate parses an update document: operators ($set, $unset, $inc,
// $mul, $min, $max, $rename, $setOnInsert, $push, $addToSet, $pull, $pullAll,
// $pop, $currentDate) or a replacement document (no top-level $ keys; {} is
// an empty replacement as in mongod). Aggregation-pipeline updates are
// refused with FailedToParse; see ParseUpdateValue.
func ParseUpdate(u bson.Raw) (*Update, error) {
	if len(u) == 0 {
		u = emptyDoc()
	}
	if err := u.Validate(); err != nil {
		return nil, mongoerr.New(mongoerr.FailedToParse, "invalid BSON in update: %v", err)
	}
	if looksLikePipeline(u) {
		return nil, pipelineUpdateErr()
	}
	it := iterDoc(u)
	k, _, _, ok := it.next()
	if !ok || len(k) == 0 || k[0] != '$' {
		return parseReplacement(u)
	}
	up := &Update{}
	it = iterDoc(u)
	for {
		k, v, _, ok := it.next()
		if !ok {
			break
		}
		if err := up.parseOperator(string(k), v); err != nil {
			return nil, err
		}
	}
	if err := checkConflicts(up.ops); err != nil {
		return nil, err
	}
	// mongod (5.0+) applies field updates in lexicographic path order, which
	// is the order new fields appear in the document.
	slices.SortStableFunc(up.ops, func(a, b updateOp) int {
		return slices.Compare(a.target(), b.target())
	})
	return up, nil
}

// ParseUpdateValue accepts the "u" field of an update statement as sent on
// the wire: a document, or an array (pipeline update, which mongoemu does
// not support).
func ParseUpdateValue(v bson.RawValue) (*Update, error) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return ParseUpdate(v.Value)
	case bson.TypeArray:
		return nil, pipelineUpdateErr()
	}
	return nil, mongoerr.New(mongoerr.FailedToParse, "Update argument must be either an object or an array")
}

func pipelineUpdateErr() error {
	return mongoerr.New(mongoerr.FailedToParse,
		"pipeline-style updates (an array of aggregation stages) are not supported by mongoemu")
}

// looksLikePipeline spots an array passed as a document: keys "0", "1", ...
// whose values are all single-stage documents ({$set: ...}).
func looksLikePipeline(u bson.Raw) bool {
	it := iterDoc(u)
	n := 0
	for ; ; n++ {
		k, v, _, ok := it.next()
		if !ok {
			return n > 0
		}
		if string(k) != strconv.Itoa(n) || !isOperatorDoc(v) {
			return false
		}
	}
}

func parseReplacement(u bson.Raw) (*Update, error) {
	it := iterDoc(u)
	for {
		k, _, _, ok := it.next()
		if !ok {
			return &Update{replacement: u}, nil
		}
		if len(k) > 0 && k[0] == '$' {
			return nil, mongoerr.New(mongoerr.DollarPrefixedFieldName,
				"The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.", k, k)
		}
	}
}

// IsReplacement reports whether the update replaces the whole document.
func (u *Update) IsReplacement() bool { return u.replacement != nil }

func (u *Update) parseOperator(op string, v bson.RawValue) error {
	switch op {
	case "$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$setOnInsert",
		"$push", "$addToSet", "$pull", "$pullAll", "$pop", "$currentDate":
	case "$bit":
		return mongoerr.New(mongoerr.FailedToParse, "$bit is not supported by mongoemu")
	default:
		return mongoerr.New(mongoerr.FailedToParse, "Unknown modifier: %s. Expected a valid update modifier or pipeline-style update specified as an array", op)
	}
	if v.Type != bson.TypeEmbeddedDocument {
		return mongoerr.New(mongoerr.FailedToParse,
			"Modifiers operate on fields but we found type %s instead. For example: {$mod: {<field>: ...}} not {%s: %s}",
			typeName(v.Type), op, fmtValue(v))
	}
	it := iterDoc(v.Value)
	for {
		k, arg, _, ok := it.next()
		if !ok {
			return nil
		}
		parts, err := updatePath(string(k))
		if err != nil {
			return err
		}
		if err := noPositional(string(k)); err != nil {
			return err
		}
		o := updateOp{op: op, parts: parts, arg: arg}
		if err := o.parseArg(); err != nil {
			return err
		}
		u.ops = append(u.ops, o)
	}
}

// noPositional refuses $, $[] and $[id] path components: they need the
// query's match position or arrayFilters, which mongoemu does not track.
func noPositional(path string) error {
	for _, p := range splitPath(path) {
		if strings.HasPrefix(p, "$") {
			return mongoerr.New(mongoerr.BadValue,
				"positional update operators ('%s' in '%s') are not supported by mongoemu", p, path)
		}
	}
	return nil
}

func (o *updateOp) parseArg() error {
	field := "{" + o.path() + ": " + fmtValue(o.arg) + "}"
	switch o.op {
	case "$inc", "$mul":
		if !isNumber(o.arg.Type) {
			verb := map[string]string{"$inc": "increment", "$mul": "multiply"}[o.op]
			return mongoerr.New(mongoerr.TypeMismatch, "Cannot %s with non-numeric argument: %s", verb, field)
		}
	case "$rename":
		return o.parseRename()
	case "$push", "$addToSet":
		return o.parsePush()
	case "$pull":
		return o.parsePull()
	case "$pullAll":
		if o.arg.Type != bson.TypeArray {
			return mongoerr.New(mongoerr.BadValue, "$pullAll requires an array argument but was given a %s", typeName(o.arg.Type))
		}
		o.each = values(o.arg.Value)
	case "$pop":
		f, ok := numberAsFloat(o.arg)
		if !ok || (f != 1 && f != -1) {
			return mongoerr.New(mongoerr.FailedToParse, "$pop expects 1 or -1, found: %s", fmtValue(o.arg))
		}
	case "$currentDate":
		return o.parseCurrentDate()
	}
	return nil
}

func (o *updateOp) parseRename() error {
	if o.arg.Type != bson.TypeString {
		return mongoerr.New(mongoerr.BadValue, "The 'to' field for $rename must be a string: %s: %s", o.path(), fmtValue(o.arg))
	}
	to := strOf(o.arg)
	switch {
	case to == o.path():
		return mongoerr.New(mongoerr.BadValue, "The source and target field for $rename must differ: %s: %s", o.path(), fmtValue(o.arg))
	case pathPrefixOf(to, o.path()) || pathPrefixOf(o.path(), to):
		return mongoerr.New(mongoerr.BadValue, "The source and target field for $rename must not be on the same path: %s: %s", o.path(), fmtValue(o.arg))
	}
	parts, err := updatePath(to)
	if err != nil {
		return err
	}
	o.to = parts
	return noPositional(to)
}

func (o *updateOp) parseCurrentDate() error {
	switch {
	case o.arg.Type == bson.TypeBoolean:
		return nil
	case o.arg.Type == bson.TypeEmbeddedDocument:
		t, ok := lookupField(o.arg.Value, "$type")
		if ok && t.Type == bson.TypeString && len(values(o.arg.Value)) == 1 {
			switch strOf(t) {
			case "date":
				return nil
			case "timestamp":
				o.ts = true
				return nil
			}
			return mongoerr.New(mongoerr.BadValue, "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}")
		}
	}
	return mongoerr.New(mongoerr.BadValue, "%s is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).", typeName(o.arg.Type))
}

// target is where the operator writes (the destination for $rename).
func (o *updateOp) target() []string {
	if o.to != nil {
		return o.to
	}
	return o.parts
}

// checkConflicts refuses two operators touching the same path or a path and
// its prefix (mongod's ConflictingUpdateOperators).
func checkConflicts(ops []updateOp) error {
	var seen []string
	for i := range ops {
		paths := []string{ops[i].path()}
		if ops[i].to != nil {
			paths = append(paths, strings.Join(ops[i].to, "."))
		}
		for _, p := range paths {
			for _, s := range seen {
				if pathPrefixOf(s, p) || pathPrefixOf(p, s) {
					at := s
					if len(p) < len(s) {
						at = p
					}
					return mongoerr.New(mongoerr.ConflictingUpdateOperators,
						"Updating the path '%s' would create a conflict at '%s'", p, at)
				}
			}
			seen = append(seen, p)
		}
	}
	return nil
}
