package heartbeat

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"maps"
	"slices"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Why a view was dropped as not provably from a configured sidecar: the "reason" label of
// rsguard_heartbeat_views_rejected_total.
const (
	rejectUnknownOrigin = "unknown_origin" // the view names a sidecar that is not configured
	rejectUnknownSender = "unknown_sender" // the sender (relay) is not a configured sidecar
	rejectMissingMAC    = "missing_mac"    // a keyring is configured and the view carries no MAC
	rejectBadMAC        = "bad_mac"        // the MAC matches no key of the keyring
)

// macInfo is the HKDF label of the view-MAC keys: they are derived from, and never equal to, the
// memberlist encryption keys, so that one key is never used by two algorithms.
const macInfo = "rsguard heartbeat view MAC v1"

// viewAuth proves where views come from. Memberlist's encryption keeps anyone without the keyring
// out of the cluster (no join, no packet accepted); the view MAC binds a view to its origin:
// the origin computes HMAC-SHA256 over (origin, gen, seq, bye, seen, view bytes) with its primary
// key, relays carry it unchanged, and a receiver accepts the view only if it verifies under one of
// its keys (rotation: every key of the keyring is tried). A relay cannot alter the view, its
// version or the origin it names without the keyring.
//
// The keyring is shared, so the MAC proves "made by a holder of the keyring and not altered
// since", not which holder: a sidecar whose keyring is stolen can speak for any configured id.
// Per-sidecar signing keys would close that; they cost a key pair per sidecar in every file.
//
// Independently of keys, views whose origin or sender is not a configured sidecar id
// (Options.Members) are dropped, and memberlist refuses members with other names. With
// Options.Insecure and no keyring nothing is authenticated: anyone who reaches the gossip port
// can join and forge views of configured ids. rsguard_heartbeat_insecure says so.
type viewAuth struct {
	keys     [][]byte        // derived MAC keys, primary first; empty when insecure
	members  map[string]bool // configured ids; empty accepts any id
	rejected *prometheus.CounterVec
	refused  prometheus.Counter
}

func newViewAuth(reg prometheus.Registerer, opts Options) *viewAuth {
	f := promauto.With(reg)
	a := &viewAuth{
		members: make(map[string]bool, len(opts.Members)),
		rejected: f.NewCounterVec(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_views_rejected_total",
			Help: "Views dropped as not provably from a configured sidecar, by reason (unknown_origin, unknown_sender, missing_mac, bad_mac). Also counted in views_invalid_total.",
		}, []string{"reason"}),
		refused: f.NewCounter(prometheus.CounterOpts{
			Name: "rsguard_heartbeat_members_refused_total",
			Help: "Memberlist alive messages ignored because the node name is not a configured sidecar id.",
		}),
	}
	insecure := f.NewGauge(prometheus.GaugeOpts{
		Name: "rsguard_heartbeat_insecure",
		Help: "1 when gossip runs without a keyring (gossip.insecure): neither encrypted nor authenticated.",
	})
	for _, r := range []string{rejectUnknownOrigin, rejectUnknownSender, rejectMissingMAC, rejectBadMAC} {
		a.rejected.WithLabelValues(r)
	}
	for _, id := range opts.Members {
		a.members[id] = true
	}
	for _, k := range opts.Keyring {
		// HKDF-SHA256 with the memberlist key as input keying material; cannot fail for 32 bytes.
		mk, err := hkdf.Key(sha256.New, k, nil, macInfo, sha256.Size)
		if err != nil {
			panic("heartbeat: derive view MAC key: " + err.Error())
		}
		a.keys = append(a.keys, mk)
	}
	if len(a.keys) == 0 {
		insecure.Set(1)
	}
	return a
}

// knows reports whether id may take part: a configured sidecar, or anyone when none are configured.
func (a *viewAuth) knows(id string) bool { return len(a.members) == 0 || a.members[id] }

// sign sets e's MAC with the primary key; without a keyring it leaves it empty.
func (a *viewAuth) sign(e *envelope) *envelope {
	if len(a.keys) > 0 {
		e.MAC = viewMAC(a.keys[0], e)
	}
	return e
}

// check returns why e must be dropped, or "" when it is provably from the configured sidecar it
// names. The rejection is counted here.
func (a *viewAuth) check(e *envelope) string {
	reason := ""
	switch {
	case !a.knows(e.Origin):
		reason = rejectUnknownOrigin
	case !a.knows(e.From):
		reason = rejectUnknownSender
	case len(a.keys) == 0:
		return "" // insecure: unauthenticated by configuration
	case len(e.MAC) == 0:
		reason = rejectMissingMAC
	default:
		for _, k := range a.keys {
			if hmac.Equal(viewMAC(k, e), e.MAC) {
				return ""
			}
		}
		reason = rejectBadMAC
	}
	a.rejected.WithLabelValues(reason).Inc()
	return reason
}

// viewMAC is HMAC-SHA256 over everything the origin says and relays carry unchanged, each field
// length-prefixed so that no two envelopes share an encoding. From and AgeMs are left out: they
// change at every hop.
func viewMAC(key []byte, e *envelope) []byte {
	h := hmac.New(sha256.New, key)
	writeBytes(h, []byte(e.Origin))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Gen))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], e.Seq)
	h.Write(n[:])
	if e.Bye {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	binary.BigEndian.PutUint64(n[:], uint64(len(e.Seen)))
	h.Write(n[:])
	for _, id := range slices.Sorted(maps.Keys(e.Seen)) {
		writeBytes(h, []byte(id))
		binary.BigEndian.PutUint64(n[:], uint64(e.Seen[id]))
		h.Write(n[:])
	}
	writeBytes(h, e.View)
	return h.Sum(nil)
}

func writeBytes(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// aliveDelegate keeps nodes whose name is not a configured sidecar id out of the member list, so
// that a stranger holding the keyring (a misconfigured sidecar of another set) is not counted.
type aliveDelegate struct{ g *Gossip }

func (d aliveDelegate) NotifyAlive(n *memberlist.Node) error {
	if d.g.auth.knows(n.Name) {
		return nil
	}
	d.g.auth.refused.Inc()
	return fmt.Errorf("%q is not a configured sidecar id", n.Name)
}

// Authenticated reports whether gossip runs with a keyring: encrypted, and views MAC'd. False
// only with Options.Insecure.
func (g *Gossip) Authenticated() bool { return len(g.auth.keys) > 0 }
