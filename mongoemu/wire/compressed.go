package wire

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
)

// Compressor ids of OP_COMPRESSED (spec §1.5).
const (
	CompressorNoop   = 0
	CompressorSnappy = 1
	CompressorZlib   = 2
	CompressorZstd   = 3
)

// ParseCompressed unwraps an OP_COMPRESSED body into the original opcode and body. mongoemu never
// offers compression in hello, so well-behaved clients never send it; noop and zlib are still
// decoded, the others are refused with a clear error.
func ParseCompressed(body []byte, maxSize int32) (OpCode, []byte, error) {
	if len(body) < 9 {
		return 0, nil, protoErr(22, "Invalid message: OP_COMPRESSED too short")
	}
	orig := OpCode(binary.LittleEndian.Uint32(body))
	size := int32(binary.LittleEndian.Uint32(body[4:]))
	id := body[8]
	payload := body[9:]
	if size < 0 || size > maxSize-HeaderLen {
		return 0, nil, protoErr(22, "Invalid message: OP_COMPRESSED uncompressedSize %d out of range", size)
	}
	switch id {
	case CompressorNoop:
		if int32(len(payload)) != size {
			return 0, nil, protoErr(22, "Invalid message: OP_COMPRESSED noop size mismatch")
		}
		return orig, payload, nil
	case CompressorZlib:
		zr, err := zlib.NewReader(bytes.NewReader(payload))
		if err != nil {
			return 0, nil, protoErr(22, "Invalid message: zlib: %v", err)
		}
		out := make([]byte, size)
		if _, err := io.ReadFull(zr, out); err != nil {
			return 0, nil, protoErr(22, "Invalid message: zlib: %v", err)
		}
		return orig, out, nil
	default:
		return 0, nil, protoErr(22, "Invalid message: unsupported compressor id %d", id)
	}
}
