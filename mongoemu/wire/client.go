package wire

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Client is a single connection speaking OP_MSG, used by emulator nodes to talk to each other
// (heartbeats, votes, oplog fetching), the way mongod uses its own internal client. It is not a
// driver: no pooling, no server selection. Calls are serialised.
type Client struct {
	addr  string
	conn  net.Conn
	br    *bufio.Reader
	mu    sync.Mutex
	reqID atomic.Int32
	// pendingMore is set while an exhaust stream is open: the next reply is read without a request.
	pendingMore bool
	lastReqID   int32
}

// Dial connects to addr with a timeout.
func Dial(ctx context.Context, addr string, timeout time.Duration) (*Client, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &Client{addr: addr, conn: c, br: bufio.NewReaderSize(c, 64<<10)}, nil
}

// Addr is the remote address the client was dialled with.
func (c *Client) Addr() string { return c.addr }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// CommandError is an {ok: 0} reply.
type CommandError struct {
	Code     int32
	CodeName string
	Msg      string
	Reply    bson.Raw
}

func (e *CommandError) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.CodeName, e.Code, e.Msg)
}

// Command runs cmd (which must carry $db) and returns the reply; ok:0 replies become *CommandError.
// The deadline is the earlier of ctx's and timeout.
func (c *Client) Command(ctx context.Context, cmd bson.D, timeout time.Duration) (bson.Raw, error) {
	return c.roundTrip(ctx, cmd, 0, timeout)
}

// CommandExhaust sends cmd with exhaustAllowed; use More to read follow-up replies while
// MoreToCome reports true.
func (c *Client) CommandExhaust(ctx context.Context, cmd bson.D, timeout time.Duration) (bson.Raw, error) {
	return c.roundTrip(ctx, cmd, FlagExhaustAllowed, timeout)
}

// MoreToCome reports whether the server said more replies follow without a request.
func (c *Client) MoreToCome() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pendingMore
}

// More reads the next streamed reply of an exhaust cursor.
func (c *Client) More(ctx context.Context, timeout time.Duration) (bson.Raw, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.pendingMore {
		return nil, errors.New("wire: no streamed reply pending")
	}
	c.setDeadline(ctx, timeout)
	return c.readReply()
}

func (c *Client) roundTrip(ctx context.Context, cmd bson.D, flags uint32, timeout time.Duration) (bson.Raw, error) {
	body, err := bson.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("marshal command: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pendingMore {
		return nil, errors.New("wire: exhaust stream still open on this connection")
	}
	id := c.reqID.Add(1)
	c.lastReqID = id
	c.setDeadline(ctx, timeout)
	// A cancelled context ends the round trip at once (a heartbeat restart cancels the request in
	// flight), not only at its deadline.
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := c.conn.Write(AppendMsg(nil, id, 0, flags, body)); err != nil {
		return nil, fmt.Errorf("write to %s: %w", c.addr, err)
	}
	return c.readReply()
}

func (c *Client) setDeadline(ctx context.Context, timeout time.Duration) {
	dl := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = c.conn.SetDeadline(dl)
}

func (c *Client) readReply() (bson.Raw, error) {
	h, body, err := ReadMessage(c.br, DefaultMaxMessageSize)
	if err != nil {
		c.pendingMore = false
		return nil, fmt.Errorf("read from %s: %w", c.addr, err)
	}
	var doc bson.Raw
	switch h.OpCode {
	case OpMsg:
		m, err := ParseMsg(nil, body)
		if err != nil {
			return nil, err
		}
		c.pendingMore = m.Flags&FlagMoreToCome != 0
		doc = m.Body
	case OpReply:
		c.pendingMore = false
		if doc, err = ParseReply(body); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("wire: unexpected reply opcode %d from %s", h.OpCode, c.addr)
	}
	return doc, CheckOK(doc)
}

// CheckOK turns an {ok: 0} reply into a *CommandError.
func CheckOK(doc bson.Raw) error {
	okv, err := doc.LookupErr("ok")
	if err != nil {
		return nil
	}
	if f, ok := okv.AsFloat64OK(); ok && f == 1 {
		return nil
	}
	if b, ok := okv.BooleanOK(); ok && b {
		return nil
	}
	ce := &CommandError{Reply: doc}
	if v, err := doc.LookupErr("code"); err == nil {
		if n, ok := v.AsInt64OK(); ok {
			ce.Code = int32(n)
		}
	}
	ce.CodeName, _ = doc.Lookup("codeName").StringValueOK()
	ce.Msg, _ = doc.Lookup("errmsg").StringValueOK()
	return ce
}
