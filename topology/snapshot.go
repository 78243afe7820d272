package topology

import (
	"slices"
	"time"
)

// SidecarConfig is one configured sidecar. The configured list, not the gossip membership, is the
// denominator of every quorum: a partition cannot shrink it (DESIGN.md principle 2).
type SidecarConfig struct {
	ID   string `json:"id"`
	Mode Mode   `json:"mode"`
	Zone string `json:"zone,omitempty"`
	Host string `json:"host,omitempty"` // the mongod beside it; empty for arbiter sidecars
}

// ViewWithAge is the latest MemberView from one sidecar plus how the receiving side judges it.
type ViewWithAge struct {
	View MemberView `json:"view"`
	// Age is how long ago the receiver got this view, by the receiver's clock.
	Age time.Duration `json:"age,omitempty"`
	// Alive is the gossip layer's membership verdict (memberlist alive, not suspect or dead).
	Alive bool `json:"alive"`
}

// Snapshot is everything one sidecar knows at one instant: the input of the election core.
type Snapshot struct {
	Now     time.Time              `json:"now"`
	SetName string                 `json:"set"`
	Self    string                 `json:"self"`
	Members []SidecarConfig        `json:"members"`
	Views   map[string]ViewWithAge `json:"views"`
	// MaxAge is how old a view may be and still count as fresh; zero means any age.
	MaxAge time.Duration `json:"max_age,omitempty"`
}

// Member returns the configured sidecar with id.
func (s Snapshot) Member(id string) (SidecarConfig, bool) {
	for _, m := range s.Members {
		if m.ID == id {
			return m, true
		}
	}
	return SidecarConfig{}, false
}

// SidecarOf returns the configured data sidecar beside the mongod at host.
func (s Snapshot) SidecarOf(host string) (SidecarConfig, bool) {
	for _, m := range s.Members {
		if host != "" && m.Host == host {
			return m, true
		}
	}
	return SidecarConfig{}, false
}

// Visible reports whether sidecar id is configured, alive in gossip and its view is fresh. Self is
// always visible: a sidecar does not need gossip to know it is running.
func (s Snapshot) Visible(id string) bool {
	if _, ok := s.Member(id); !ok {
		return false
	}
	if id == s.Self {
		return true
	}
	v, ok := s.Views[id]
	return ok && v.Alive && (s.MaxAge <= 0 || v.Age <= s.MaxAge)
}

// View returns the view of sidecar id if it is visible.
func (s Snapshot) View(id string) (MemberView, bool) {
	if !s.Visible(id) {
		return MemberView{}, false
	}
	v, ok := s.Views[id]
	return v.View, ok
}

// VisibleSidecars lists the visible configured sidecars, sorted by id.
func (s Snapshot) VisibleSidecars() []string {
	var ids []string
	for _, m := range s.Members {
		if s.Visible(m.ID) {
			ids = append(ids, m.ID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Majority is a strict majority of the configured sidecars, arbiters included.
func (s Snapshot) Majority() int { return len(s.Members)/2 + 1 }

// HasQuorum reports whether a majority of the configured sidecars is visible. Without it this
// sidecar may be on the minority side of a partition and must never act.
func (s Snapshot) HasQuorum() bool {
	return len(s.Members) > 0 && len(s.VisibleSidecars()) >= s.Majority()
}

// Coordinator is the lowest id in the visible majority, or "" without quorum. Two sides of a
// partition cannot both hold a majority, so at most one coordinator acts (modulo view skew, which
// MongoDB's one-primary-per-term rule absorbs).
func (s Snapshot) Coordinator() string {
	if !s.HasQuorum() {
		return ""
	}
	for _, id := range s.VisibleSidecars() {
		if v, ok := s.View(id); !ok || !v.NotReady {
			return id
		}
	}
	return ""
}

// IsCoordinator reports whether Self is the coordinator.
func (s Snapshot) IsCoordinator() bool { return s.Self != "" && s.Coordinator() == s.Self }
