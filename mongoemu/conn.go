package mongoemu

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/wire"
)

// conn is one client connection. Requests on a connection are handled in order, like mongod's
// thread-per-connection model; exhaust hello streams replies until the client goes away.
type conn struct {
	id  int64
	n   *Node
	nc  net.Conn
	br  *bufio.Reader
	ctx context.Context
	// cancel interrupts the in-flight operation (stepdown, rollback, shutdown close connections).
	cancel context.CancelFunc

	supportsHello atomic.Bool // a hello carried helloOk: errors say "not primary" (spec §2.1)
	appName       atomic.Value
	internal      atomic.Bool // another node (internalClient) rather than a user client
	replyID       atomic.Int32
	authn         connAuth // the authenticated user (auth_session.go)
}

func newConn(n *Node, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{id: n.connIDs.Add(1), n: n, nc: nc, br: bufio.NewReaderSize(nc, 64<<10), ctx: ctx, cancel: cancel}
	c.appName.Store("")
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return c
}

func (c *conn) close() {
	c.cancel()
	_ = c.nc.Close()
}

func (c *conn) serve() {
	c.n.conns.add(c)
	c.n.counters.connOpened()
	defer func() {
		c.n.conns.remove(c)
		c.n.counters.connClosed()
		c.close()
	}()
	for {
		h, body, err := wire.ReadMessage(c.br, wire.DefaultMaxMessageSize)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isConnReset(err) {
				c.n.events.warn("NETWORK", 22988, "Error receiving request from client. Ending connection from remote",
					"error", err.Error(), "remote", c.nc.RemoteAddr().String(), "connectionId", c.id)
			}
			return
		}
		if !c.handle(h, body) {
			return
		}
	}
}

func isConnReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "use of closed")
}

// handle processes one message and reports whether the connection stays open.
func (c *conn) handle(h wire.Header, body []byte) bool {
	var hdr [wire.HeaderLen]byte
	putHeader(hdr[:], h)
	switch h.OpCode {
	case wire.OpCompressed:
		op, inner, err := wire.ParseCompressed(body, wire.DefaultMaxMessageSize)
		if err != nil {
			c.protocolFailure(h, err)
			return false
		}
		h.OpCode = op
		return c.handle(h, inner)
	case wire.OpQuery:
		q, err := wire.ParseQuery(body)
		if err != nil {
			c.protocolFailure(h, err)
			return false
		}
		return c.write(wire.AppendReply(nil, c.nextReplyID(), h.RequestID, c.n.handleQuery(c, q)))
	case wire.OpMsg:
		m, err := wire.ParseMsg(hdr[:], body)
		if err != nil {
			c.protocolFailure(h, err)
			return false
		}
		return c.handleMsg(h, m)
	default:
		// mongod 5.1+ drops legacy opcodes; the connection is closed after logging.
		c.n.events.warn("NETWORK", 22632, "Received unsupported opcode; closing connection",
			"opCode", int32(h.OpCode), "connectionId", c.id)
		return false
	}
}

func (c *conn) handleMsg(h wire.Header, m *wire.Msg) bool {
	cmd, err := m.FoldSequences()
	if err != nil {
		c.protocolFailure(h, err)
		return false
	}
	noReply := m.Flags&wire.FlagMoreToCome != 0
	exhaust := m.Flags&wire.FlagExhaustAllowed != 0
	req := &request{c: c, cmd: cmd, exhaust: exhaust && !noReply}
	reply, act := c.n.dispatch(c.ctx, req)
	if act.closeConnection {
		return false
	}
	if noReply { // w:0 write: mongod sends nothing back (spec §1.2)
		return true
	}
	flags := uint32(0)
	if act.moreToCome {
		flags = wire.FlagMoreToCome
	}
	respTo := h.RequestID
	id := c.nextReplyID()
	if !c.write(wire.AppendMsg(nil, id, respTo, flags, reply)) {
		return false
	}
	// Exhaust: keep streaming while the handler asks for it; each reply answers the previous one.
	for act.moreToCome && act.next != nil {
		reply, act = act.next(c.ctx)
		if act.closeConnection {
			return false
		}
		flags = 0
		if act.moreToCome {
			flags = wire.FlagMoreToCome
		}
		prev := id
		id = c.nextReplyID()
		if !c.write(wire.AppendMsg(nil, id, prev, flags, reply)) {
			return false
		}
	}
	return true
}

func (c *conn) nextReplyID() int32 { return c.replyID.Add(1) }

func (c *conn) write(b []byte) bool {
	_, err := c.nc.Write(b)
	return err == nil
}

// protocolFailure answers a malformed message with the real error when possible, then closes.
func (c *conn) protocolFailure(h wire.Header, err error) {
	var pe *wire.ProtocolError
	code := int32(22)
	msg := err.Error()
	if errors.As(err, &pe) {
		code = pe.Code
		msg = pe.Msg
	}
	c.n.events.warn("NETWORK", 22989, "Malformed message; closing connection", "error", msg, "connectionId", c.id)
	doc, _ := bson.Marshal(bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: msg}, {Key: "code", Value: code},
		{Key: "codeName", Value: codeNameFor(code)}})
	if h.OpCode == wire.OpQuery {
		c.write(wire.AppendReply(nil, c.nextReplyID(), h.RequestID, doc))
	} else {
		c.write(wire.AppendMsg(nil, c.nextReplyID(), h.RequestID, 0, doc))
	}
}

func putHeader(b []byte, h wire.Header) {
	le := func(o int, v int32) {
		b[o], b[o+1], b[o+2], b[o+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
	le(0, h.Length)
	le(4, h.RequestID)
	le(8, h.ResponseTo)
	le(12, int32(h.OpCode))
}

// connSet tracks open connections so stepdown/rollback/shutdown can close them.
type connSet struct {
	mu     sync.Mutex
	m      map[*conn]struct{}
	closed bool // after closeAll (stop, abort): a connection accepted just before is closed too
}

func (s *connSet) init() { s.m = make(map[*conn]struct{}) }

func (s *connSet) add(c *conn) {
	s.mu.Lock()
	s.m[c] = struct{}{}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		c.close()
	}
}

func (s *connSet) remove(c *conn) {
	s.mu.Lock()
	delete(s.m, c)
	s.mu.Unlock()
}

func (s *connSet) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// closeAll closes every connection (shutdown, entering ROLLBACK: spec §7.7 step 1).
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeMatching(func(*conn) bool { return true })
}

// closeMatching closes the connections keep selects.
func (s *connSet) closeMatching(sel func(*conn) bool) {
	s.mu.Lock()
	var victims []*conn
	for c := range s.m {
		if sel(c) {
			victims = append(victims, c)
		}
	}
	s.mu.Unlock()
	for _, c := range victims {
		c.close()
	}
}
