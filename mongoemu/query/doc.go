// Package query is mongoemu's query engine: value ordering, filter
// matching, updates, projections, sorting and a small aggregation pipeline,
// all over raw BSON (bson.Raw in, bson.Raw out). It is pure: no I/O, no
// clock (callers pass now), no package-level mutable state; compiled
// Matcher, Update, Projection, Sort and Pipeline values are immutable and
// safe for concurrent use. Errors are *mongoerr.Error with mongod's codes
// and message shapes (docs/mongod-spec.md §5.7, §6).
//
// # Values
//
// Compare/Equal order values like mongod (numbers by value across int32,
// int64, double and decimal128; strings bytewise, no collation). EqualityKey
// gives a hash key consistent with Equal, for the _id index and $group.
//
// # Filters (NewMatcher)
//
// Implicit equality, including whole documents, arrays and null (null
// matches null, undefined and missing); dotted paths with array traversal
// and numeric positions (see Lookup); $eq $ne $gt $gte $lt $lte (with type
// bracketing: values of different types never compare, except MinKey and
// MaxKey); $in $nin (regex elements allowed); $exists; $type (numbers,
// string aliases, "number", arrays of them); $and $or $nor $not; $elemMatch
// (value and object forms); $size; $all (values, regexes, $elemMatch);
// $regex with $options (i m s x; l and u accepted) and BSON regex values;
// $mod; $comment; $alwaysTrue/$alwaysFalse. Regexes run on Go's RE2, so
// lookaround and backreferences are rejected as invalid (code 51091).
// Not supported (BadValue "... is not supported by mongoemu"): $expr
// $where $text $jsonSchema, geo and $bits operators. Unknown operators are
// BadValue "unknown operator: $x"; unknown top-level ones "unknown top level
// operator: $x. ..." as mongod 7 words it.
//
// # Updates (ParseUpdate)
//
// $set $unset $inc $mul $min $max $rename $setOnInsert $currentDate
// (date, or timestamp with increment 1), $push ($each $slice $sort
// $position), $addToSet ($each), $pull (value, regex, operator condition
// or sub-filter), $pullAll, $pop; or a replacement document. Fields are
// updated in lexicographic path order as mongod 5.0+ does, numeric types
// promote like mongod (int32 overflow becomes int64; int64 overflow is an
// error), and _id may not change (ImmutableField). Not supported: pipeline
// updates, positional paths ($, $[], $[id]) and arrayFilters, $bit.
//
// # Projections, sort, pipeline
//
// Projections include or exclude dotted fields (nested {a: {b: 1}} form
// too), _id included unless {_id: 0}, and in inclusion mode computed fields
// (field paths, $literal, literals); no $slice, $elemMatch, $meta or
// positional projection. Sort keys are 1/-1 only; a missing field sorts as
// null, an array by its minimum (ascending) or maximum (descending). The
// pipeline runs $match $sort $skip $limit $project $unset $count $group
// (_id: constant, field path or document of them; $sum $avg $min $max
// $first $last $push $addToSet $count) $addFields/$set and $unwind (string
// or {path, includeArrayIndex, preserveNullAndEmptyArrays}). Expressions are
// field paths, $$ROOT/$$CURRENT/$$REMOVE, $literal, literals and
// documents/arrays of those; operators like $add are refused (code 168).
package query
