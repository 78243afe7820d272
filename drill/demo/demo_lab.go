package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/rsguard/rsguard/apiclient"
	"github.com/rsguard/rsguard/lab"
	"github.com/rsguard/rsguard/mongo"
	"github.com/rsguard/rsguard/supervisor"
)

// demoSet is the replica set name of the demo.
const demoSet = "rs0"

// mongodHost is one data-bearing member: a mongod on its own loopback address, run by its
// sidecar (process.controller exec).
type mongodHost struct{ *lab.Host }

func (h *mongodHost) name() string   { return h.HostPort() }
func (h *mongodHost) dbpath() string { return h.DBPath }

// hello asks the mongod directly, with a short deadline.
func (h *mongodHost) hello(ctx context.Context) (mongo.Hello, error) {
	n, err := h.Node()
	if err != nil {
		return mongo.Hello{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	return n.Hello(ctx)
}

// status asks the mongod for replSetGetStatus.
func (h *mongodHost) status(ctx context.Context) (mongo.Status, error) {
	n, err := h.Node()
	if err != nil {
		return mongo.Status{}, err
	}
	return n.Status(ctx)
}

// sidecar is one rsguard sidecar the demo runs (this same binary with `run --config`), with the
// names the demo's narration uses.
type sidecar struct {
	*lab.Sidecar
	id     string
	http   string // addr:port
	config string
	audit  string
	host   *mongodHost // nil for the arbiter sidecar
}

func (s *sidecar) base() string { return "http://" + s.http }

func (s *sidecar) status(ctx context.Context, client *http.Client) (supervisor.StatusReport, error) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	var r supervisor.StatusReport
	c, err := apiclient.New(apiclient.Options{Addr: s.http, HTTPClient: client})
	if err != nil {
		return r, err
	}
	body, err := c.Status(ctx)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return r, fmt.Errorf("decoding the status report of sidecar %s: %w", s.id, err)
	}
	return r, nil
}

// ready asks /readyz; the error carries the sidecar's reasons.
func (s *sidecar) ready(ctx context.Context, client *http.Client) error {
	c, err := apiclient.New(apiclient.Options{Addr: s.http, HTTPClient: client})
	if err != nil {
		return err
	}
	return c.Ready(ctx)
}
