package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xdg-go/scram"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rsguard/rsguard/mongoemu/mongoerr"
	"github.com/rsguard/rsguard/mongoemu/wire"
)

// dialPeer opens an internal connection to another member: TLS when this node's tlsMode says
// so, the internalClient hello, then authentication as __system@local with the key file over
// SCRAM-SHA-256 (client/internal_auth.cpp, authenticateInternalClient), or MONGODB-X509 with
// clusterAuthMode x509. Every internal connection (heartbeats, votes, oplog fetching, initial
// sync, rollback) goes through here, so a member without the right key is refused like mongod
// refuses it.
func (n *Node) dialPeer(ctx context.Context, host string, timeout time.Duration) (*wire.Client, error) {
	var c *wire.Client
	var err error
	if cfg := n.internalTLS(); cfg != nil {
		c, err = wire.DialTLS(ctx, host, timeout, cfg)
	} else {
		c, err = wire.Dial(ctx, host, timeout)
	}
	if err != nil {
		return nil, err
	}
	_, err = c.Command(ctx, bson.D{{Key: "hello", Value: 1}, {Key: "helloOk", Value: true},
		{Key: "internalClient", Value: bson.D{{Key: "minWireVersion", Value: int32(maxWireVersion)}, {Key: "maxWireVersion", Value: int32(maxWireVersion)}}},
		{Key: "$db", Value: "admin"}}, timeout)
	if err == nil {
		err = n.authenticateInternal(ctx, c, timeout)
	}
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func (n *Node) authenticateInternal(ctx context.Context, c *wire.Client, timeout time.Duration) error {
	if n.auth == nil {
		return nil
	}
	if m := n.opts.Security.clusterAuthMode(); m == "x509" || m == "sendX509" {
		_, err := c.Command(ctx, bson.D{{Key: "authenticate", Value: 1}, {Key: "mechanism", Value: mechX509},
			{Key: "$db", Value: "$external"}}, timeout)
		return err
	}
	if n.auth.internal == nil {
		return nil
	}
	// Each key of a rollover key file is tried in turn, as authenticateInternalClient walks the
	// internal auth parameters (client/internal_auth.cpp).
	var err error
	for _, client := range n.auth.internal.clients {
		if err = authenticateWithKey(ctx, c, timeout, client); err == nil {
			return nil
		}
		var ce *wire.CommandError
		if !errors.As(err, &ce) || ce.Code != int32(mongoerr.AuthenticationFailed) {
			return err
		}
	}
	return err
}

func authenticateWithKey(ctx context.Context, c *wire.Client, timeout time.Duration, client *scram.Client) error {
	conv := client.NewConversation()
	first, err := conv.Step("")
	if err != nil {
		return fmt.Errorf("internal auth: %w", err)
	}
	reply, err := c.Command(ctx, bson.D{{Key: "saslStart", Value: 1}, {Key: "mechanism", Value: mechSCRAMSHA256},
		{Key: "payload", Value: bson.Binary{Data: []byte(first)}}, {Key: "options", Value: bson.D{{Key: "skipEmptyExchange", Value: true}}},
		{Key: "$db", Value: internalUserDB}}, timeout)
	for err == nil {
		_, payload, _ := reply.Lookup("payload").BinaryOK()
		var next string
		if next, err = conv.Step(string(payload)); err != nil {
			return fmt.Errorf("internal auth: %w", err)
		}
		if done, _ := reply.Lookup("done").BooleanOK(); done {
			return nil
		}
		reply, err = c.Command(ctx, bson.D{{Key: "saslContinue", Value: 1}, {Key: "conversationId", Value: int32(1)},
			{Key: "payload", Value: bson.Binary{Data: []byte(next)}}, {Key: "$db", Value: internalUserDB}}, timeout)
	}
	return err
}
