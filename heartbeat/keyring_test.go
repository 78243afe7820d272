package heartbeat

import (
	"bytes"
	"encoding/base64"
	"testing"
	"testing/synctest"
	"time"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// testKey is the keyring of test clusters unless a test says otherwise.
var testKey = key(42)

func TestEncryptedClusterRejectsWrongKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k1, k2 := key(1), key(2)
		c := newCluster(t, 3, func(o *Options) {
			// Mid-rotation: s3 already sends with k2; everybody accepts both.
			o.Keyring = [][]byte{k1, k2}
			if o.NodeID == "s3" {
				o.Keyring = [][]byte{k2, k1}
			}
		})
		defer c.stop()
		waitFor(t, 5*time.Second, "encrypted cluster converged", func() bool { return c.allFresh(time.Second) })

		// An intruder with another key, and one without encryption, never get in.
		for _, tc := range []struct {
			id, addr string
			keys     [][]byte
		}{{"bad", "127.0.0.20:7946", [][]byte{key(3)}}, {"plain", "127.0.0.21:7946", nil}} {
			c.tweak = func(o *Options) { o.Keyring, o.Insecure = tc.keys, tc.keys == nil }
			c.nodes = append(c.nodes, c.add(tc.id, tc.addr))
		}
		time.Sleep(15 * time.Second)
		for _, nd := range c.nodes[:3] {
			for _, m := range nd.g.Members() {
				if m.ID == "bad" || m.ID == "plain" {
					t.Errorf("%s admitted %s", nd.id, m.ID)
				}
			}
			if _, ok := nd.g.Views()["bad"]; ok {
				t.Errorf("%s accepted a view from the wrong key", nd.id)
			}
		}
		for _, nd := range c.nodes[3:] {
			if len(nd.g.Members()) != 1 || len(nd.g.Views()) != 1 {
				t.Errorf("%s got in: members %v", nd.id, nd.g.Members())
			}
			if f, _ := metricValue(t, nd.reg, "rsguard_heartbeat_seed_join_failures_total"); f == 0 {
				t.Errorf("%s: no join failures counted", nd.id)
			}
		}
		if !c.allFresh(time.Second, c.nodes[:3]...) {
			t.Error("the legitimate cluster suffered")
		}
	})
}

func TestParseKeys(t *testing.T) {
	k := base64.StdEncoding.EncodeToString(key(7))
	keys, err := ParseKeys([]string{k, " " + k + "\n"})
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], key(7)) {
		t.Fatalf("ParseKeys = %v, %v", keys, err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := ParseKeys([]string{bad}); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}
