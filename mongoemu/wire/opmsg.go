package wire

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// OP_MSG flag bits (spec §1.2).
const (
	FlagChecksumPresent uint32 = 1 << 0
	FlagMoreToCome      uint32 = 1 << 1
	FlagExhaustAllowed  uint32 = 1 << 16
	requiredBitsMask    uint32 = 0xffff
	knownRequiredBits          = FlagChecksumPresent | FlagMoreToCome
)

// Sequence is a kind-1 document sequence: the identifier names the command argument it fills.
type Sequence struct {
	Identifier string
	Docs       []bson.Raw
}

// Msg is a decoded OP_MSG.
type Msg struct {
	Flags     uint32
	Body      bson.Raw
	Sequences []Sequence
}

// ProtocolError is a malformed or unsupported message; Code is the server error code to report
// (e.g. IllegalOpMsgFlag 223) and the connection is closed afterwards.
type ProtocolError struct {
	Code int32
	Msg  string
}

func (e *ProtocolError) Error() string { return e.Msg }

func protoErr(code int32, format string, args ...any) error {
	return &ProtocolError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ParseMsg decodes an OP_MSG body (the bytes after the header). header is needed to verify a
// checksum, which covers the header too.
func ParseMsg(header, body []byte) (*Msg, error) {
	flags, rest, ok := readInt32(body)
	if !ok {
		return nil, protoErr(22, "Invalid message: OP_MSG too short for flags")
	}
	m := &Msg{Flags: uint32(flags)}
	if unknown := m.Flags & requiredBitsMask &^ knownRequiredBits; unknown != 0 {
		return nil, protoErr(223, "Unrecognized required bits in OP_MSG flags: 0x%x", unknown)
	}
	if m.Flags&FlagChecksumPresent != 0 {
		if len(rest) < 4 {
			return nil, protoErr(22, "Invalid message: OP_MSG checksum missing")
		}
		want := binary.LittleEndian.Uint32(rest[len(rest)-4:])
		rest = rest[:len(rest)-4]
		h := crc32.Update(0, castagnoli, header)
		h = crc32.Update(h, castagnoli, body[:len(body)-4])
		if h != want {
			return nil, protoErr(22, "Invalid message: OP_MSG checksum does not match contents")
		}
	}
	for len(rest) > 0 {
		kind := rest[0]
		rest = rest[1:]
		switch kind {
		case 0:
			if m.Body != nil {
				return nil, protoErr(40430, "Multiple body sections in message")
			}
			doc, r, ok := readDocument(rest)
			if !ok {
				return nil, protoErr(22, "Invalid message: malformed OP_MSG body section")
			}
			if err := bson.Raw(doc).Validate(); err != nil {
				return nil, protoErr(22, "Invalid message: invalid BSON in OP_MSG body: %v", err)
			}
			m.Body, rest = bson.Raw(doc), r
		case 1:
			size, _, ok := readInt32(rest)
			if !ok || size < 5 || int(size) > len(rest) {
				return nil, protoErr(22, "Invalid message: malformed OP_MSG document sequence")
			}
			seqBytes := rest[4:size]
			rest = rest[size:]
			id, docs, ok := readCString(seqBytes)
			if !ok {
				return nil, protoErr(22, "Invalid message: document sequence identifier not terminated")
			}
			seq := Sequence{Identifier: id}
			for len(docs) > 0 {
				d, r, ok := readDocument(docs)
				if !ok {
					return nil, protoErr(22, "Invalid message: malformed document in sequence %q", id)
				}
				if err := bson.Raw(d).Validate(); err != nil {
					return nil, protoErr(22, "Invalid message: invalid BSON in sequence %q: %v", id, err)
				}
				seq.Docs = append(seq.Docs, bson.Raw(d))
				docs = r
			}
			m.Sequences = append(m.Sequences, seq)
		default:
			return nil, protoErr(40432, "Unknown section kind %d", kind)
		}
	}
	if m.Body == nil {
		return nil, protoErr(40587, "OP_MSG messages must have a body")
	}
	return m, nil
}

// AppendMsg appends an OP_MSG with one kind-0 section (the only form mongod replies with) and no
// checksum: the Go driver cannot parse a trailing checksum (spec §0).
func AppendMsg(dst []byte, requestID, responseTo int32, flags uint32, body []byte) []byte {
	start := len(dst)
	dst = appendHeader(dst, requestID, responseTo, OpMsg)
	dst = binary.LittleEndian.AppendUint32(dst, flags&^FlagChecksumPresent)
	dst = append(dst, 0)
	dst = append(dst, body...)
	return setLength(dst, start)
}

// AppendMsgWithSequence appends an OP_MSG with a body and one kind-1 sequence (used by tests to
// exercise the server's sequence folding the way drivers send inserts).
func AppendMsgWithSequence(dst []byte, requestID int32, flags uint32, body []byte, seq Sequence) []byte {
	start := len(dst)
	dst = appendHeader(dst, requestID, 0, OpMsg)
	dst = binary.LittleEndian.AppendUint32(dst, flags)
	dst = append(dst, 0)
	dst = append(dst, body...)
	dst = append(dst, 1)
	sizeAt := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = append(dst, seq.Identifier...)
	dst = append(dst, 0)
	for _, d := range seq.Docs {
		dst = append(dst, d...)
	}
	binary.LittleEndian.PutUint32(dst[sizeAt:], uint32(len(dst)-sizeAt))
	return setLength(dst, start)
}

// FoldSequences returns the body with each kind-1 sequence appended as an array field named by its
// identifier, which is how mongod treats them before dispatch (spec §1.2).
func (m *Msg) FoldSequences() (bson.Raw, error) {
	if len(m.Sequences) == 0 {
		return m.Body, nil
	}
	elems, err := m.Body.Elements()
	if err != nil {
		return nil, err
	}
	d := make(bson.D, 0, len(elems)+len(m.Sequences))
	for _, e := range elems {
		d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
	}
	for _, s := range m.Sequences {
		for _, e := range d {
			if e.Key == s.Identifier {
				return nil, protoErr(40430, "Duplicate field name in body and document sequence: %s", s.Identifier)
			}
		}
		arr := make(bson.A, len(s.Docs))
		for i, doc := range s.Docs {
			arr[i] = doc
		}
		d = append(d, bson.E{Key: s.Identifier, Value: arr})
	}
	return bson.Marshal(d)
}
