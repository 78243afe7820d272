package check

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

// OpKind names the operation a client performs on one keyed register.
type OpKind int

const (
	// OpRead reads the register; the output carries the value seen.
	OpRead OpKind = iota + 1
	// OpWrite sets the register to Op.Value.
	OpWrite
	// OpCAS sets the register to Op.New if it holds Op.Old; the output says
	// whether it did.
	OpCAS
)

func (k OpKind) String() string {
	switch k {
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	case OpCAS:
		return "cas"
	default:
		return fmt.Sprintf("OpKind(%d)", int(k))
	}
}

// Op is the input of one register operation. Every register starts at 0
// (a key never written reads as 0), so workloads write values other than 0.
type Op struct {
	Kind  OpKind
	Key   string
	Value int64 // OpWrite
	Old   int64 // OpCAS
	New   int64 // OpCAS
}

// Read, Write and CAS build the three operations.
func Read(key string) Op                { return Op{Kind: OpRead, Key: key} }
func Write(key string, value int64) Op  { return Op{Kind: OpWrite, Key: key, Value: value} }
func CAS(key string, old, new int64) Op { return Op{Kind: OpCAS, Key: key, Old: old, New: new} }

func (o Op) validate() error {
	switch o.Kind {
	case OpRead, OpWrite, OpCAS:
	default:
		return fmt.Errorf("op kind %d: unknown (want read, write or cas)", int(o.Kind))
	}
	if o.Key == "" {
		return fmt.Errorf("op %s: key is empty", o.Kind)
	}
	return nil
}

func (o Op) String() string {
	switch o.Kind {
	case OpRead:
		return fmt.Sprintf("read(%s)", o.Key)
	case OpWrite:
		return fmt.Sprintf("write(%s, %d)", o.Key, o.Value)
	case OpCAS:
		return fmt.Sprintf("cas(%s, %d->%d)", o.Key, o.Old, o.New)
	default:
		return o.Kind.String()
	}
}

// Output is what an operation returned: the value a read saw, whether a CAS
// swapped. Unknown marks an operation whose effect is unknown (timeout, network
// error after sending): the model lets it take effect at any point after its
// call, or never.
type Output struct {
	Value   int64 // OpRead
	OK      bool  // OpCAS: swapped
	Unknown bool
}

func describe(o Op, out Output) string {
	if out.Unknown {
		return o.String() + " -> ?"
	}
	switch o.Kind {
	case OpRead:
		return fmt.Sprintf("%s -> %d", o, out.Value)
	case OpCAS:
		if out.OK {
			return o.String() + " -> ok"
		}
		return o.String() + " -> not swapped"
	default:
		return o.String() + " -> ok"
	}
}

// Register is the porcupine model of a set of keyed integer registers,
// partitioned by key: the per-partition state is one int64.
func Register() porcupine.Model {
	return porcupine.Model{
		Partition: partitionByKey,
		Init:      func() interface{} { return int64(0) },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			return step(state.(int64), input.(Op), output.(Output))
		},
		Equal: func(a, b interface{}) bool { return a.(int64) == b.(int64) },
		Hash:  func(s interface{}) uint64 { return uint64(s.(int64)) },
		DescribeOperation: func(input, output interface{}) string {
			return describe(input.(Op), output.(Output))
		},
		DescribeState: func(s interface{}) string { return fmt.Sprintf("%d", s.(int64)) },
		DescribeOperationMetadata: func(m interface{}) string {
			if m == nil {
				return ""
			}
			return fmt.Sprint(m)
		},
	}
}

// step is the sequential specification of one register.
func step(state int64, op Op, out Output) (bool, int64) {
	switch op.Kind {
	case OpRead:
		if out.Unknown {
			return true, state
		}
		return out.Value == state, state
	case OpWrite:
		return true, op.Value
	case OpCAS:
		if out.Unknown {
			// Linearized here, it either matched and swapped or did not.
			if state == op.Old {
				return true, op.New
			}
			return true, state
		}
		if out.OK {
			return state == op.Old, op.New
		}
		return state != op.Old, state
	}
	return false, state
}

// partitionByKey splits a history into one sub-history per key, in key order,
// so partition i of the checker's result is keys(history)[i].
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, op := range history {
		k := op.Input.(Op).Key
		byKey[k] = append(byKey[k], op)
	}
	keys := sortedKeys(byKey)
	out := make([][]porcupine.Operation, 0, len(keys))
	for _, k := range keys {
		out = append(out, byKey[k])
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
