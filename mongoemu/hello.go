package mongoemu

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/wire"
)

// maxWireVersion 21 = MongoDB 7.0 (spec §0).
const maxWireVersion = 21

func (n *Node) registerHello(t commandTable) {
	for _, name := range []string{"hello", "isMaster", "ismaster"} {
		t[name] = &command{fn: n.cmdHello, kind: kindAny, stream: n.streamHello}
	}
}

// helloRequest holds the validated awaitable-hello arguments (spec §1.7).
type helloRequest struct {
	hasTV     bool
	processID bson.ObjectID
	counter   int64
	maxAwait  time.Duration
}

func parseHelloRequest(r *request) (helloRequest, error) {
	var hr helloRequest
	tv, hasTV := r.arg("topologyVersion")
	maxMS, hasMax, err := r.intArg("maxAwaitTimeMS")
	if err != nil {
		return hr, err
	}
	if hasTV != hasMax {
		if hasTV {
			return hr, mongoerr.New(31368, "A request with a 'topologyVersion' must include 'maxAwaitTimeMS'")
		}
		return hr, mongoerr.New(31368, "A request with 'maxAwaitTimeMS' must include a 'topologyVersion'")
	}
	if !hasTV {
		if r.exhaust {
			return hr, mongoerr.New(51756, "An isMaster request with exhaust must specify 'maxAwaitTimeMS'")
		}
		return hr, nil
	}
	doc, ok := tv.DocumentOK()
	if !ok {
		return hr, mongoerr.New(mongoerr.TypeMismatch, "BSON field 'topologyVersion' is the wrong type, expected type 'object'")
	}
	pid, ok := doc.Lookup("processId").ObjectIDOK()
	if !ok {
		return hr, mongoerr.New(mongoerr.TypeMismatch, "BSON field 'topologyVersion.processId' is the wrong type, expected type 'objectId'")
	}
	counter, ok := numberAsInt64(doc.Lookup("counter"))
	if !ok {
		return hr, mongoerr.New(mongoerr.TypeMismatch, "BSON field 'topologyVersion.counter' is the wrong type, expected type 'long'")
	}
	if counter < 0 {
		return hr, mongoerr.New(31372, "topologyVersion must have a non-negative counter")
	}
	if maxMS < 0 {
		return hr, mongoerr.New(31373, "maxAwaitTimeMS must be a non-negative integer")
	}
	return helloRequest{hasTV: true, processID: pid, counter: counter, maxAwait: time.Duration(maxMS) * time.Millisecond}, nil
}

func (n *Node) cmdHello(ctx context.Context, r *request) (bson.D, error) {
	n.noteClient(r)
	hr, err := parseHelloRequest(r)
	if err != nil {
		return nil, err
	}
	if hr.hasTV {
		if err := n.awaitTopologyChange(ctx, hr); err != nil {
			return nil, err
		}
	}
	d, err := n.helloReply(r)
	if err != nil {
		return nil, err
	}
	return n.helloAuthFields(r, d), nil // auth_sasl.go
}

// streamHello produces the next exhaust reply: it waits for a change after the last reply's
// counter (or maxAwaitTimeMS) and answers again. The stream never ends on its own.
func (n *Node) streamHello(ctx context.Context, r *request, _ bson.D) (bson.D, bool, error) {
	hr, err := parseHelloRequest(r)
	if err != nil {
		return nil, false, err
	}
	n.mu.Lock()
	hr.processID, hr.counter = n.topo.processID, n.lastStreamedCounter(r)
	n.mu.Unlock()
	if err := n.awaitTopologyChange(ctx, hr); err != nil {
		return nil, false, err
	}
	fields, err := n.helloReply(r)
	return fields, err == nil, err
}

// lastStreamedCounter is the counter this exhaust stream last reported; it is kept on the request.
func (n *Node) lastStreamedCounter(r *request) int64 {
	if r.streamCounter == nil {
		c := n.topo.counter
		r.streamCounter = &c
	}
	return *r.streamCounter
}

// awaitTopologyChange blocks while the client's topologyVersion is current (spec §1.7 rule 3).
func (n *Node) awaitTopologyChange(ctx context.Context, hr helloRequest) error {
	n.mu.Lock()
	if hr.processID != n.topo.processID {
		n.mu.Unlock()
		return nil
	}
	if hr.counter > n.topo.counter {
		cur := n.topo.counter
		n.mu.Unlock()
		return mongoerr.New(mongoerr.BadValue, "Received a topology version with counter: %d which is greater than the server topology version counter: %d", hr.counter, cur)
	}
	if hr.counter < n.topo.counter {
		n.mu.Unlock()
		return nil
	}
	ch := n.topo.changed
	n.mu.Unlock()
	timer := time.NewTimer(hr.maxAwait)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
	case <-n.quit:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// noteClient records per-connection facts from hello: helloOk switches error wording, the app
// name feeds failCommand's appName filter (spec §9 connection layer).
func (n *Node) noteClient(r *request) {
	if _, ok := r.arg("helloOk"); ok {
		r.c.supportsHello.Store(true)
	}
	if cl, ok, _ := r.docArg("client"); ok {
		if app, ok := cl.Lookup("application", "name").StringValueOK(); ok {
			r.c.appName.Store(app)
		}
	}
	if _, ok := r.arg("internalClient"); ok {
		r.c.internal.Store(true)
	}
}

// helloReply assembles the reply in mongod's field order (spec §2.1).
func (n *Node) helloReply(r *request) (bson.D, error) {
	if n.shutdownStarted.Load() {
		return nil, mongoerr.New(mongoerr.ShutdownInProgress, "The server is in quiesce mode and will shut down").
			With("remainingQuiesceTimeMillis", n.remainingQuiesce().Milliseconds())
	}
	isHello := r.name == "hello"
	d := bson.D{}
	if _, ok := r.arg("helloOk"); ok {
		d = append(d, bson.E{Key: "helloOk", Value: true})
	}
	n.mu.Lock()
	if n.repl == nil {
		d = append(d, bson.E{Key: writableKey(isHello), Value: true},
			bson.E{Key: "topologyVersion", Value: n.topo.doc()})
	} else {
		d = append(d, bson.E{Key: "topologyVersion", Value: n.topo.doc()})
		d = append(d, n.repl.helloFieldsLocked(isHello)...)
	}
	if r.streamCounter != nil {
		*r.streamCounter = n.topo.counter
	}
	n.mu.Unlock()
	d = append(d,
		bson.E{Key: "maxBsonObjectSize", Value: int32(16 * 1024 * 1024)},
		bson.E{Key: "maxMessageSizeBytes", Value: int32(wire.DefaultMaxMessageSize)},
		bson.E{Key: "maxWriteBatchSize", Value: int32(100000)},
		bson.E{Key: "localTime", Value: bson.DateTime(time.Now().UnixMilli())},
		bson.E{Key: "logicalSessionTimeoutMinutes", Value: int32(30)},
		bson.E{Key: "connectionId", Value: int32(r.c.id)},
		bson.E{Key: "minWireVersion", Value: int32(0)},
		bson.E{Key: "maxWireVersion", Value: int32(maxWireVersion)},
		bson.E{Key: "readOnly", Value: false},
	)
	return d, nil
}

func writableKey(isHello bool) string {
	if isHello {
		return "isWritablePrimary"
	}
	return "ismaster"
}

// handleQuery answers the OP_QUERY handshake; mongod 5.1+ accepts only hello/isMaster there
// (spec §1.3) and answers anything else with UnsupportedOpQueryCommand.
func (n *Node) handleQuery(c *conn, q *wire.Query) bson.Raw {
	r := &request{c: c, cmd: q.Query, legacy: true, db: dbOf(q.FullCollection)}
	name := ""
	if e, err := q.Query.IndexErr(0); err == nil {
		name = e.Key()
	}
	r.name = name
	switch name {
	case "isMaster", "ismaster", "hello":
	default:
		return n.errorReply(r, mongoerr.New(mongoerr.UnsupportedOpQueryCommand,
			"Unsupported OP_QUERY command: %s. The client driver may require an upgrade. For more details see https://dochub.mongodb.org/core/legacy-opcode-removal", name))
	}
	if q.FullCollection != "admin.$cmd" && len(q.FullCollection) < 5 {
		return n.errorReply(r, mongoerr.New(mongoerr.InvalidNamespace, "Invalid ns [%s]", q.FullCollection))
	}
	n.counters.countCommand(name)
	fields, err := n.cmdHello(c.ctx, r)
	if err != nil {
		return n.errorReply(r, err)
	}
	return n.okReply(fields)
}

func dbOf(fullCollection string) string {
	for i := 0; i < len(fullCollection); i++ {
		if fullCollection[i] == '.' {
			return fullCollection[:i]
		}
	}
	return fullCollection
}
