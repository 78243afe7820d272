package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustDoc(t testing.TB, d bson.D) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMsgRoundTripWithSequence(t *testing.T) {
	body := mustDoc(t, bson.D{{Key: "insert", Value: "c"}, {Key: "$db", Value: "test"}})
	docs := []bson.Raw{mustDoc(t, bson.D{{Key: "_id", Value: 1}}), mustDoc(t, bson.D{{Key: "_id", Value: 2}})}
	raw := AppendMsgWithSequence(nil, 7, 0, body, Sequence{Identifier: "documents", Docs: docs})
	h, b, err := ReadMessage(bytes.NewReader(raw), DefaultMaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	if h.OpCode != OpMsg || h.RequestID != 7 || int(h.Length) != len(raw) {
		t.Fatalf("header %+v", h)
	}
	m, err := ParseMsg(raw[:HeaderLen], b)
	if err != nil {
		t.Fatal(err)
	}
	folded, err := m.FoldSequences()
	if err != nil {
		t.Fatal(err)
	}
	arr, ok := folded.Lookup("documents").ArrayOK()
	if !ok {
		t.Fatalf("documents not folded: %v", folded)
	}
	vals, _ := arr.Values()
	if len(vals) != 2 {
		t.Fatalf("want 2 docs, got %d", len(vals))
	}
}

func TestMsgChecksumAcceptedAndVerified(t *testing.T) {
	body := mustDoc(t, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
	raw := AppendMsg(nil, 1, 0, 0, body)
	binary.LittleEndian.PutUint32(raw[16:], FlagChecksumPresent)
	sum := crc32.Checksum(raw, castagnoli)
	raw = binary.LittleEndian.AppendUint32(raw, sum)
	binary.LittleEndian.PutUint32(raw, uint32(len(raw)))
	// The length changed after the sum: recompute over the final header.
	sum = crc32.Checksum(raw[:len(raw)-4], castagnoli)
	binary.LittleEndian.PutUint32(raw[len(raw)-4:], sum)
	if _, err := ParseMsg(raw[:HeaderLen], raw[HeaderLen:]); err != nil {
		t.Fatalf("valid checksum refused: %v", err)
	}
	raw[len(raw)-1] ^= 0xff
	if _, err := ParseMsg(raw[:HeaderLen], raw[HeaderLen:]); err == nil {
		t.Fatal("corrupt checksum accepted")
	}
}

func TestMsgRejectsUnknownRequiredFlag(t *testing.T) {
	body := mustDoc(t, bson.D{{Key: "ping", Value: 1}})
	raw := AppendMsg(nil, 1, 0, 0, body)
	binary.LittleEndian.PutUint32(raw[16:], 1<<5)
	_, err := ParseMsg(raw[:HeaderLen], raw[HeaderLen:])
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Code != 223 {
		t.Fatalf("want IllegalOpMsgFlag 223, got %v", err)
	}
	// Unknown optional bits (16-31) are ignored.
	binary.LittleEndian.PutUint32(raw[16:], 1<<20)
	if _, err := ParseMsg(raw[:HeaderLen], raw[HeaderLen:]); err != nil {
		t.Fatalf("optional bit refused: %v", err)
	}
}

func TestReadMessageLimits(t *testing.T) {
	huge := make([]byte, 16)
	binary.LittleEndian.PutUint32(huge, 48000001)
	if _, _, err := ReadMessage(bytes.NewReader(huge), DefaultMaxMessageSize); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("want ErrTooLarge, got %v", err)
	}
	small := make([]byte, 16)
	binary.LittleEndian.PutUint32(small, 3)
	if _, _, err := ReadMessage(bytes.NewReader(small), DefaultMaxMessageSize); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("want ErrTooSmall, got %v", err)
	}
	trunc := AppendMsg(nil, 1, 0, 0, mustDoc(t, bson.D{{Key: "ping", Value: 1}}))
	if _, _, err := ReadMessage(bytes.NewReader(trunc[:len(trunc)-3]), DefaultMaxMessageSize); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("want unexpected EOF, got %v", err)
	}
}

func TestQueryAndReplyRoundTrip(t *testing.T) {
	cmd := mustDoc(t, bson.D{{Key: "isMaster", Value: 1}, {Key: "helloOk", Value: true}})
	raw := AppendQuery(nil, 3, "admin.$cmd", cmd)
	q, err := ParseQuery(raw[HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	if q.FullCollection != "admin.$cmd" || q.NumberToReturn != -1 || !bytes.Equal(q.Query, cmd) {
		t.Fatalf("query %+v", q)
	}
	rep := AppendReply(nil, 9, 3, cmd)
	doc, err := ParseReply(rep[HeaderLen:])
	if err != nil || !bytes.Equal(doc, cmd) {
		t.Fatalf("reply %v %v", doc, err)
	}
	if flags := int32(binary.LittleEndian.Uint32(rep[HeaderLen:])); flags != ReplyFlagAwaitCapable {
		t.Fatalf("reply flags %d", flags)
	}
}

// FuzzParse feeds arbitrary frames through every decoder: they may fail, never panic, and never
// allocate more than the declared (bounded) length.
func FuzzParse(f *testing.F) {
	f.Add(AppendMsg(nil, 1, 0, 0, mustDoc(f, bson.D{{Key: "ping", Value: 1}})))
	f.Add(AppendQuery(nil, 1, "admin.$cmd", mustDoc(f, bson.D{{Key: "isMaster", Value: 1}})))
	f.Add(AppendMsgWithSequence(nil, 2, 0, mustDoc(f, bson.D{{Key: "insert", Value: "c"}}),
		Sequence{Identifier: "documents", Docs: []bson.Raw{mustDoc(f, bson.D{{Key: "a", Value: 1}})}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, body, err := ReadMessage(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		switch h.OpCode {
		case OpMsg:
			if m, err := ParseMsg(data[:HeaderLen], body); err == nil {
				_, _ = m.FoldSequences()
			}
		case OpQuery:
			_, _ = ParseQuery(body)
		case OpReply:
			_, _ = ParseReply(body)
		case OpCompressed:
			_, _, _ = ParseCompressed(body, 1<<20)
		}
	})
}
