package wire

import (
	"encoding/binary"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Query is a decoded OP_QUERY (spec §1.3); mongod 5.1+ accepts it only for the hello handshake.
type Query struct {
	Flags          int32
	FullCollection string
	NumberToSkip   int32
	NumberToReturn int32
	Query          bson.Raw
}

// ParseQuery decodes an OP_QUERY body.
func ParseQuery(body []byte) (*Query, error) {
	flags, rest, ok := readInt32(body)
	if !ok {
		return nil, protoErr(22, "Invalid message: OP_QUERY too short")
	}
	q := &Query{Flags: flags}
	if q.FullCollection, rest, ok = readCString(rest); !ok {
		return nil, protoErr(22, "Invalid message: OP_QUERY collection name not terminated")
	}
	if q.NumberToSkip, rest, ok = readInt32(rest); !ok {
		return nil, protoErr(22, "Invalid message: OP_QUERY numberToSkip missing")
	}
	if q.NumberToReturn, rest, ok = readInt32(rest); !ok {
		return nil, protoErr(22, "Invalid message: OP_QUERY numberToReturn missing")
	}
	doc, _, ok := readDocument(rest)
	if !ok {
		return nil, protoErr(22, "Invalid message: OP_QUERY query document malformed")
	}
	if err := bson.Raw(doc).Validate(); err != nil {
		return nil, protoErr(22, "Invalid message: invalid BSON in OP_QUERY: %v", err)
	}
	q.Query = bson.Raw(doc)
	return q, nil
}

// AppendQuery appends an OP_QUERY command on db.$cmd, like the driver's legacy handshake.
func AppendQuery(dst []byte, requestID int32, fullCollection string, cmd []byte) []byte {
	start := len(dst)
	dst = appendHeader(dst, requestID, 0, OpQuery)
	dst = binary.LittleEndian.AppendUint32(dst, 4) // SecondaryOk, as the driver sends
	dst = append(dst, fullCollection...)
	dst = append(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, 0xffffffff)
	dst = append(dst, cmd...)
	return setLength(dst, start)
}

// ReplyFlagAwaitCapable is set by mongod on every OP_REPLY (spec §1.4).
const ReplyFlagAwaitCapable int32 = 8

// AppendReply appends an OP_REPLY carrying exactly one document.
func AppendReply(dst []byte, requestID, responseTo int32, doc []byte) []byte {
	start := len(dst)
	dst = appendHeader(dst, requestID, responseTo, OpReply)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(ReplyFlagAwaitCapable))
	dst = binary.LittleEndian.AppendUint64(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, 1)
	dst = append(dst, doc...)
	return setLength(dst, start)
}

// ParseReply decodes an OP_REPLY and returns its single document.
func ParseReply(body []byte) (bson.Raw, error) {
	if len(body) < 20 {
		return nil, protoErr(22, "Invalid message: OP_REPLY too short")
	}
	n := int32(binary.LittleEndian.Uint32(body[16:]))
	if n != 1 {
		return nil, protoErr(22, "Invalid message: OP_REPLY with %d documents", n)
	}
	doc, _, ok := readDocument(body[20:])
	if !ok {
		return nil, protoErr(22, "Invalid message: OP_REPLY document malformed")
	}
	return bson.Raw(doc), nil
}
