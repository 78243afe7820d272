// Package wire encodes and decodes MongoDB wire-protocol messages (docs/mongod-spec.md §1):
// the 16-byte header, OP_MSG, the legacy OP_QUERY handshake and its OP_REPLY, and OP_COMPRESSED.
// It is shared by the emulator's server side and by the small client nodes use to talk to each other.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// OpCode is a wire-protocol opcode (spec §1.1).
type OpCode int32

// Opcodes. Only OP_MSG, OP_QUERY (handshake), OP_REPLY and OP_COMPRESSED are spoken; the rest are
// named so that errors can say what was received.
const (
	OpReply      OpCode = 1
	OpUpdate     OpCode = 2001
	OpInsert     OpCode = 2002
	OpQuery      OpCode = 2004
	OpGetMore    OpCode = 2005
	OpDelete     OpCode = 2006
	OpKillCursor OpCode = 2007
	OpCompressed OpCode = 2012
	OpMsg        OpCode = 2013
)

// HeaderLen is the size of the standard message header.
const HeaderLen = 16

// DefaultMaxMessageSize is mongod's maxMessageSizeBytes (spec §1.1).
const DefaultMaxMessageSize = 48000000

// Header is the standard message header, little-endian on the wire.
type Header struct {
	Length     int32
	RequestID  int32
	ResponseTo int32
	OpCode     OpCode
}

// ErrTooLarge is returned for a frame whose declared length exceeds the limit; the caller must close
// the connection (mongod does: "recv(): message len N is invalid").
var ErrTooLarge = errors.New("wire: message too large")

// ErrTooSmall is returned for a declared length below the header size.
var ErrTooSmall = errors.New("wire: message length smaller than header")

// ReadMessage reads one whole message. The body excludes the header. A declared length outside
// [16, maxSize] fails before any allocation, so hostile lengths cannot exhaust memory.
func ReadMessage(r io.Reader, maxSize int32) (Header, []byte, error) {
	var hb [HeaderLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return Header{}, nil, err
	}
	h := Header{
		Length:     int32(binary.LittleEndian.Uint32(hb[0:])),
		RequestID:  int32(binary.LittleEndian.Uint32(hb[4:])),
		ResponseTo: int32(binary.LittleEndian.Uint32(hb[8:])),
		OpCode:     OpCode(binary.LittleEndian.Uint32(hb[12:])),
	}
	if h.Length < HeaderLen {
		return h, nil, fmt.Errorf("%w: %d", ErrTooSmall, h.Length)
	}
	if h.Length > maxSize {
		return h, nil, fmt.Errorf("%w: message len %d is invalid. Min 16 Max: %d", ErrTooLarge, h.Length, maxSize)
	}
	body := make([]byte, h.Length-HeaderLen)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return h, nil, fmt.Errorf("wire: truncated message body: %w", err)
	}
	return h, body, nil
}

// appendHeader appends a header with a placeholder length; finish with setLength.
func appendHeader(dst []byte, requestID, responseTo int32, op OpCode) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(requestID))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(responseTo))
	return binary.LittleEndian.AppendUint32(dst, uint32(op))
}

func setLength(msg []byte, start int) []byte {
	binary.LittleEndian.PutUint32(msg[start:], uint32(len(msg)-start))
	return msg
}

func readInt32(b []byte) (int32, []byte, bool) {
	if len(b) < 4 {
		return 0, b, false
	}
	return int32(binary.LittleEndian.Uint32(b)), b[4:], true
}

func readCString(b []byte) (string, []byte, bool) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), b[i+1:], true
		}
	}
	return "", b, false
}

// readDocument splits one BSON document off b, checking its declared length fits.
func readDocument(b []byte) ([]byte, []byte, bool) {
	n, _, ok := readInt32(b)
	if !ok || n < 5 || int(n) > len(b) || b[n-1] != 0 {
		return nil, b, false
	}
	return b[:n], b[n:], true
}
