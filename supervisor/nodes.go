package supervisor

import (
	"context"
	"errors"
	"sync"

	"github.com/rsguard/rsguard/mongo"
)

// nodes caches one Node per mongod host: the local one, the primary being write-probed, the
// members whose reachability this sidecar checks and the targets of actions all share it, so a
// host costs one driver client however many loops talk to it. A host whose dial failed is dialled
// again on next use; a new primary is simply a new key.
type nodes struct {
	dial DialFunc

	mu sync.Mutex
	m  map[string]mongo.Node
}

func newNodes(dial DialFunc) *nodes {
	return &nodes{dial: dial, m: map[string]mongo.Node{}}
}

func (n *nodes) get(ctx context.Context, host string) (mongo.Node, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if nd, ok := n.m[host]; ok {
		return nd, nil
	}
	if n.m == nil {
		return nil, errors.New("supervisor: mongod connections are closed")
	}
	// Dialling is lazy in the driver (mongo.Dial), so holding the lock here is cheap.
	nd, err := n.dial(ctx, host)
	if err != nil {
		return nil, err
	}
	n.m[host] = nd
	return nd, nil
}

func (n *nodes) closeAll(ctx context.Context) error {
	n.mu.Lock()
	m := n.m
	n.m = nil
	n.mu.Unlock()
	var errs []error
	for _, nd := range m {
		if err := nd.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
