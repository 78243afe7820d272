package mongoemu

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// topologyVersion is (processId, counter) of spec §2.4: processId is new at every start and the
// counter grows on every change visible in hello. Waiting awaitable hellos are woken by closing the
// current changed channel and installing a fresh one.
type topologyVersion struct {
	processID bson.ObjectID
	counter   int64
	changed   chan struct{}
}

func newTopologyVersion() topologyVersion {
	return topologyVersion{processID: bson.NewObjectID(), changed: make(chan struct{})}
}

// bump must be called with the node lock held.
func (t *topologyVersion) bump() {
	t.counter++
	close(t.changed)
	t.changed = make(chan struct{})
}

func (t *topologyVersion) doc() bson.D {
	return bson.D{{Key: "processId", Value: t.processID}, {Key: "counter", Value: t.counter}}
}
