package mongo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// wireServer is the smallest mongod look-alike the driver will talk to: it answers the legacy
// OP_QUERY handshake and then OP_MSG commands through handle. It exists to check this package's
// error mapping against the real driver's errors; mongoemu is the faithful emulator.
type wireServer struct {
	ln     net.Listener
	handle func(cmd string, body bson.Raw) (reply bson.D, hangUp bool)

	mu    sync.Mutex
	conns []net.Conn
	muted map[net.Conn]bool // connections that read requests and answer nothing (muteOpen)
}

// muteOpen makes every connection open now read its requests and never answer, as connections
// whose requests a network blip swallowed do; connections opened later answer.
func (s *wireServer) muteOpen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.muted == nil {
		s.muted = map[net.Conn]bool{}
	}
	for _, c := range s.conns {
		s.muted[c] = true
	}
}

func (s *wireServer) isMuted(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.muted[c]
}

// handshake is enough for the driver to treat the server as a usable standalone (spec §1.6).
var handshake = bson.D{
	{Key: "helloOk", Value: true}, {Key: "ismaster", Value: true},
	{Key: "maxBsonObjectSize", Value: int32(16777216)}, {Key: "maxMessageSizeBytes", Value: int32(48000000)},
	{Key: "maxWriteBatchSize", Value: int32(100000)}, {Key: "minWireVersion", Value: int32(0)},
	{Key: "maxWireVersion", Value: int32(21)}, {Key: "logicalSessionTimeoutMinutes", Value: int32(30)}, {Key: "ok", Value: 1.0},
}

func newWireServer(t *testing.T, handle func(cmd string, body bson.Raw) (bson.D, bool)) *wireServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &wireServer{ln: ln, handle: handle}
	go s.serve()
	t.Cleanup(s.close)
	return s
}

func (s *wireServer) addr() string { return s.ln.Addr().String() }

func (s *wireServer) close() {
	s.ln.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

func (s *wireServer) serve() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		go s.conn(c)
	}
}

func (s *wireServer) conn(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		var hdr [16]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		size := binary.LittleEndian.Uint32(hdr[0:])
		reqID := binary.LittleEndian.Uint32(hdr[4:])
		op := binary.LittleEndian.Uint32(hdr[12:])
		if size < 16 || size > 1<<24 {
			return
		}
		body := make([]byte, size-16)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		if s.isMuted(c) {
			continue
		}
		var out []byte
		switch op {
		case 2004: // OP_QUERY: the legacy handshake
			out = opReply(reqID, handshake)
		case 2013: // OP_MSG
			doc, err := msgBody(body)
			if err != nil {
				return
			}
			cmd := bson.Raw(doc).Index(0).Key()
			var reply bson.D
			hang := false
			if cmd == "hello" || cmd == "isMaster" || cmd == "ismaster" {
				reply = handshake
			} else {
				reply, hang = s.handle(cmd, doc)
			}
			if hang {
				return
			}
			if reply == nil {
				reply = bson.D{{Key: "ok", Value: 1.0}}
			}
			out = opMsg(reqID, reply)
		default:
			return
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func msgBody(b []byte) (bson.Raw, error) {
	if len(b) < 5 || b[4] != 0 {
		return nil, errors.New("want a kind-0 section first")
	}
	doc := b[5:]
	if len(doc) < 4 {
		return nil, errors.New("short document")
	}
	n := binary.LittleEndian.Uint32(doc)
	if int(n) > len(doc) {
		return nil, errors.New("short document")
	}
	return bson.Raw(doc[:n]), nil
}

func header(size int, respTo uint32, op uint32) []byte {
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], uint32(size))
	binary.LittleEndian.PutUint32(h[4:], respTo+1000)
	binary.LittleEndian.PutUint32(h[8:], respTo)
	binary.LittleEndian.PutUint32(h[12:], op)
	return h
}

func opReply(respTo uint32, d bson.D) []byte {
	doc, _ := bson.Marshal(d)
	body := make([]byte, 20, 20+len(doc))
	binary.LittleEndian.PutUint32(body[16:], 1) // numberReturned
	body = append(body, doc...)
	return append(header(16+len(body), respTo, 1), body...)
}

func opMsg(respTo uint32, d bson.D) []byte {
	doc, _ := bson.Marshal(d)
	body := append(make([]byte, 5), doc...) // flagBits 0, section kind 0
	return append(header(16+len(body), respTo, 2013), body...)
}
