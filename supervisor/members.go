package supervisor

import (
	"slices"

	"github.com/rsguard/rsguard/election"
	"github.com/rsguard/rsguard/topology"
)

// MemberRow is one line of the status members table: a configured sidecar and its mongod, or a
// replica-set member without a sidecar (an arbiter mongod) that some view reports.
type MemberRow struct {
	Sidecar string        `json:"sidecar,omitempty"`
	Mode    topology.Mode `json:"mode,omitempty"`
	Zone    string        `json:"zone,omitempty"`
	Host    string        `json:"host,omitempty"`
	// State, OpTime come from the member's own sidecar when it is visible ("own_sidecar"), else
	// from the freshest report of the others' mongods or probes ("peers").
	State      string          `json:"state,omitempty"`
	OpTime     topology.OpTime `json:"optime,omitzero"`
	Source     string          `json:"source,omitempty"`
	LagSeconds float64         `json:"lag_seconds"`
	// SidecarAlive/SidecarVisible: gossip's verdict on the member's sidecar and whether its view
	// is fresh enough to count; ViewAgeSeconds is -1 when no view was ever received.
	SidecarAlive   bool    `json:"sidecar_alive"`
	SidecarVisible bool    `json:"sidecar_visible"`
	ViewAgeSeconds float64 `json:"view_age_seconds"`
	// SeenBy is who sees what: each visible sidecar's opinion of this host.
	SeenBy map[string]Seen `json:"seen_by,omitempty"`

	stateNum topology.MemberState
}

// Seen is one sidecar's opinion of one host.
type Seen struct {
	Reach string `json:"reach"` // "yes", "no" or "unknown" (topology.MemberView.Reaches)
	State string `json:"state,omitempty"`
}

var reachNames = map[topology.Reach]string{topology.ReachUnknown: "unknown", topology.ReachYes: "yes", topology.ReachNo: "no"}

// membersTable builds the members table of a snapshot; lag is measured against the analysed
// primary's optime, or the freshest one known when there is no primary.
func membersTable(snap topology.Snapshot, a election.Analysis) []MemberRow {
	visible := snap.VisibleSidecars()
	var rows []MemberRow
	known := map[string]bool{}
	for _, m := range snap.Members {
		row := MemberRow{Sidecar: m.ID, Mode: m.Mode, Zone: m.Zone, Host: m.Host, ViewAgeSeconds: -1}
		if v, ok := snap.Views[m.ID]; ok {
			row.SidecarAlive, row.ViewAgeSeconds = v.Alive, v.Age.Seconds()
		}
		row.SidecarVisible = snap.Visible(m.ID)
		if m.Host != "" {
			known[m.Host] = true
			describe(&row, snap, visible)
		}
		rows = append(rows, row)
	}
	var extra []string
	for _, id := range visible {
		v, _ := snap.View(id)
		for _, p := range v.Peers {
			if !known[p.Host] {
				known[p.Host] = true
				extra = append(extra, p.Host)
			}
		}
	}
	slices.Sort(extra)
	for _, h := range extra {
		row := MemberRow{Host: h, ViewAgeSeconds: -1}
		describe(&row, snap, visible)
		rows = append(rows, row)
	}
	var ref topology.OpTime
	for _, r := range rows {
		if r.Host == a.Primary && a.Primary != "" && !r.OpTime.IsNull() {
			ref = r.OpTime
			break
		}
		if r.OpTime.After(ref) {
			ref = r.OpTime
		}
	}
	for i := range rows {
		if !rows[i].OpTime.IsNull() && rows[i].stateNum != topology.StateArbiter {
			rows[i].LagSeconds = rows[i].OpTime.LagBehind(ref).Seconds()
		}
	}
	return rows
}

// describe fills state, optime and who-sees-what for row.Host.
func describe(row *MemberRow, snap topology.Snapshot, visible []string) {
	row.stateNum = topology.StateUnknown
	row.SeenBy = map[string]Seen{}
	var best topology.PeerSeen
	found := false
	for _, id := range visible {
		v, _ := snap.View(id)
		seen := Seen{Reach: reachNames[v.Reaches(row.Host)]}
		switch {
		case v.Local.Host == row.Host:
			st := v.Local.State
			if !v.Local.Reachable {
				// Its own sidecar cannot reach it: the last state it answered is history, and a
				// dead primary must not show as a second PRIMARY.
				st = topology.StateDown
			}
			seen.State = st.String()
			row.State, row.OpTime, row.Source, row.stateNum = seen.State, v.Local.OpTime, "own_sidecar", st
		default:
			if p, ok := v.Peer(row.Host); ok {
				seen.State = p.State.String()
				if !found || (p.Healthy && !best.Healthy) || (p.Healthy == best.Healthy && p.OpTime.After(best.OpTime)) {
					best, found = p, true
				}
			}
		}
		row.SeenBy[id] = seen
	}
	if row.Source == "" && found {
		row.State, row.OpTime, row.Source, row.stateNum = best.State.String(), best.OpTime, "peers", best.State
	}
}
