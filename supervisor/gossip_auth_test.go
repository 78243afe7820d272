package supervisor

import (
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

func TestGossipOptionsCarryMembersAndKeyring(t *testing.T) {
	o, err := gossipOptions(parseConfig(t, ""))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Members, []string{"a", "b", "c", "d"}) || len(o.Keyring) != 1 || o.Insecure {
		t.Errorf("members %v keys %d insecure %v", o.Members, len(o.Keyring), o.Insecure)
	}
}

func readyz(c *cluster, id string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	apiFor(c, id, "").ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	return w
}

// A set whose configs say gossip.insecure runs and becomes ready (tests, demos), but /readyz, the
// status and a gauge say that its gossip is unauthenticated; an authenticated set says nothing.
func TestInsecureGossipWarnsButStaysReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		keyring := regexp.MustCompile(`(?m)^  keyring_file: .*\n`)
		insecure := func(s string) string { return keyring.ReplaceAllString(s, "  insecure: true\n") }
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newClusterEdited(t, w, threeData, "", insecure)
		defer c.stop()
		c.waitHealthy(h1)
		for id := range c.sups {
			r := readyz(c, id)
			if r.Code != 200 || !strings.Contains(r.Body.String(), "warning: "+InsecureGossipWarning) {
				t.Errorf("%s /readyz: %d %q", id, r.Code, r.Body)
			}
			if st := c.status(id); !st.Ready || !slices.Contains(st.Warnings, InsecureGossipWarning) {
				t.Errorf("%s status: ready %v warnings %q", id, st.Ready, st.Warnings)
			}
			if v, _ := metric(t, c.regs[id], "rsguard_heartbeat_insecure"); v != 1 {
				t.Errorf("%s: rsguard_heartbeat_insecure = %v", id, v)
			}
		}
	})
	synctest.Test(t, func(t *testing.T) {
		w := newWorld("rs0", []string{h1, h2, h3}, h1)
		c := newCluster(t, w, threeData, "")
		defer c.stop()
		c.waitHealthy(h1)
		r := readyz(c, "a")
		if r.Code != 200 || r.Body.String() != "ready\n" || len(c.status("a").Warnings) != 0 {
			t.Errorf("authenticated set: /readyz %d %q, warnings %q", r.Code, r.Body, c.status("a").Warnings)
		}
		if v, _ := metric(t, c.regs["a"], "rsguard_heartbeat_insecure"); v != 0 {
			t.Errorf("rsguard_heartbeat_insecure = %v with a keyring", v)
		}
	})
}
