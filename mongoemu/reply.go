package mongoemu

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
)

func codeNameFor(code int32) string { return mongoerr.Code(code).Name() }

// okReply appends ok: 1.0 (a double, as mongod sends) and the cluster-time fields.
func (n *Node) okReply(fields bson.D) bson.Raw { return n.okReplyAt(fields, bson.Timestamp{}) }

// okReplyAt is okReply with operationTime opTS when set, as computeOperationTime
// (service_entry_point_common.cpp) picks it: a write reports its own optime (the client's
// lastOp), a majority or snapshot read the snapshot it read; anything else the newest optime.
func (n *Node) okReplyAt(fields bson.D, opTS bson.Timestamp) bson.Raw {
	d := make(bson.D, 0, len(fields)+3)
	d = append(d, fields...)
	d = append(d, bson.E{Key: "ok", Value: 1.0})
	d = n.appendClusterTime(d)
	if !opTS.IsZero() {
		for i := range d {
			if d[i].Key == "operationTime" {
				d[i].Value = opTS
			}
		}
	}
	b, err := bson.Marshal(d)
	if err != nil {
		return n.errorReply(nil, mongoerr.New(mongoerr.InternalError, "could not encode reply: %v", err))
	}
	return b
}

// errorReply builds {ok: 0, errmsg, code, codeName, ...} (spec §1.8). NotPrimary-category errors
// carry topologyVersion, and a failed retryable write carries RetryableWriteError (spec §5.7).
func (n *Node) errorReply(r *request, err error) bson.Raw {
	var me *mongoerr.Error
	if !errors.As(err, &me) {
		me = &mongoerr.Error{Code: mongoerr.InternalError, Msg: err.Error()}
	}
	d := bson.D{}
	if me.Code.IsNotPrimary() || (me.Code == mongoerr.ShutdownInProgress && n.shutdownStarted.Load()) {
		n.mu.Lock()
		d = append(d, bson.E{Key: "topologyVersion", Value: n.topo.doc()})
		n.mu.Unlock()
	}
	d = append(d, bson.E{Key: "ok", Value: 0.0}, bson.E{Key: "errmsg", Value: me.Msg},
		bson.E{Key: "code", Value: int32(me.Code)}, bson.E{Key: "codeName", Value: me.Code.Name()})
	for _, f := range me.Extra {
		d = append(d, bson.E{Key: f.Key, Value: f.Value})
	}
	labels := me.Labels
	if labels == nil && r != nil && r.isRetryableWrite() && me.Code.IsRetryable() {
		labels = []string{"RetryableWriteError"}
	}
	if len(labels) > 0 {
		d = append(d, bson.E{Key: "errorLabels", Value: labels})
	}
	d = n.appendClusterTime(d)
	b, merr := bson.Marshal(d)
	if merr != nil {
		b, _ = bson.Marshal(bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: me.Msg},
			{Key: "code", Value: int32(mongoerr.InternalError)}, {Key: "codeName", Value: "InternalError"}})
	}
	return b
}

// appendClusterTime adds $clusterTime and operationTime in replica-set mode (spec §1.8).
func (n *Node) appendClusterTime(d bson.D) bson.D {
	if n.repl == nil {
		return d
	}
	ts, ok := n.repl.clusterTime()
	if !ok {
		return d
	}
	return append(d,
		bson.E{Key: "$clusterTime", Value: bson.D{
			{Key: "clusterTime", Value: ts},
			{Key: "signature", Value: bson.D{
				{Key: "hash", Value: bson.Binary{Subtype: 0, Data: make([]byte, 20)}},
				{Key: "keyId", Value: int64(0)},
			}},
		}},
		bson.E{Key: "operationTime", Value: ts},
	)
}

// isRetryableWrite: the command carried txnNumber outside a transaction (spec §5.7).
func (r *request) isRetryableWrite() bool {
	if _, ok := r.arg("txnNumber"); !ok {
		return false
	}
	if _, ok := r.arg("autocommit"); ok {
		return false
	}
	switch r.name {
	case "insert", "update", "delete", "findAndModify", "findandmodify":
		return true
	}
	return false
}
