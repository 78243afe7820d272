package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/rsguard/rsguard/e2e/harness"
)

// TestReplSetMajorityWritesOnEveryMember: a 3-node set initiates; w:"majority" writes through the
// driver's replica-set client are acknowledged and then readable on every member over direct
// connections with secondaryPreferred reads.
func TestReplSetMajorityWritesOnEveryMember(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 3, Settings: fastSettings})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	p := c.WaitPrimary(t, 30*time.Second)
	members, err := c.Members(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 3 {
		t.Fatalf("primary %s lists %d members, want 3: %+v", p, len(members), members)
	}

	coll := c.MajorityClient(t).Database("rs").Collection("majority")
	var acked []string
	for i := range 50 {
		id := fmt.Sprintf("m-%03d", i)
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := coll.InsertOne(wctx, bson.D{{Key: "_id", Value: id}, {Key: "i", Value: i}})
		cancel()
		if err != nil {
			t.Fatalf("w:majority insert %s: %v", id, err)
		}
		acked = append(acked, id)
	}
	c.Timeline.Mark("%d w:majority inserts acknowledged", len(acked))
	waitDocsOn(t, c.DataHosts(), "rs", "majority", acked, nil, 10*time.Second)
	c.Timeline.Mark("all %d documents readable on every member", len(acked))

	// Writes go to the primary only: a direct w:1 insert on a secondary is refused with
	// NotWritablePrimary (10107).
	sec := c.Others(p)[0]
	_, err = directColl(t, sec, "rs", "majority", writeconcern.W1()).InsertOne(ctx, bson.D{{Key: "_id", Value: "on-secondary"}})
	wantCode(t, "insert on secondary "+sec.String(), err, 10107)
}

// TestReplSetPSAFailover: a primary-secondary-arbiter set elects; after SIGKILL of the primary the
// other data node becomes primary (the arbiter's vote makes the majority) and takes writes; the
// killed node rejoins as SECONDARY.
func TestReplSetPSAFailover(t *testing.T) {
	c := harness.NewCluster(t, harness.Options{Members: 2, Arbiters: 1, Settings: fastSettings})
	defer c.Timeline.Log(t)
	ctx := context.Background()
	arb := c.Hosts()[2]
	c.WaitState(t, arb, "ARBITER", 30*time.Second)
	p := c.WaitPrimary(t, 30*time.Second)
	other := c.DataHosts()[0]
	if other == p {
		other = c.DataHosts()[1]
	}

	coll := c.MajorityClient(t).Database("rs").Collection("psa")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "before"}}); err != nil {
		t.Fatalf("w:majority insert before the kill: %v", err)
	}
	c.Timeline.Zero("SIGKILL primary %s", p)
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	np := c.WaitPrimary(t, 30*time.Second, p)
	c.Timeline.Mark("new primary %s", np)
	if np != other {
		t.Fatalf("new primary %s, want the other data node %s", np, other)
	}
	// With one data node down, w:majority (2 data-bearing acks) cannot be satisfied in PSA; the
	// new primary must still take w:1 writes.
	w1 := directColl(t, np, "rs", "psa", writeconcern.W1())
	harness.WaitFor(t, 10*time.Second, "w:1 write on the new primary", func(ctx context.Context) error {
		_, err := w1.InsertOne(ctx, bson.D{{Key: "_id", Value: "after"}})
		return err
	})

	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.WaitState(t, p, "SECONDARY", 30*time.Second)
	c.WaitHealthy(t, 30*time.Second)
	waitDocsOn(t, c.DataHosts(), "rs", "psa", []string{"after", "before"}, nil, 10*time.Second)
}
