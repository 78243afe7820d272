package election

import "github.com/rsguard/rsguard/topology"

// A primary's own term is the term it was elected in: the electionId term it reports in hello
// while it is primary (spec §5.4). Its replSetGetStatus term is not: a primary that hears a newer
// term takes it at once and starts to step down, and a stalled one (spec §6.1) keeps saying
// PRIMARY with the newer term for as long as the stepdown cannot complete. Keyed by the newer
// term, such a primary would look like a new incident (a spurious refused_anti_flap on rsguard's
// own pending step-up) and like a primary of the same term as its successor (view skew, so never
// fenced).

// ownTerm is the term of a data sidecar's own PRIMARY claim: the electionId term its mongod
// reports about itself, else its current term.
func ownTerm(v topology.MemberView) int64 {
	if l := v.Local; v.Primary.Host == l.Host && v.Primary.ElectionTerm > 0 {
		return v.Primary.ElectionTerm
	}
	return v.Local.Term
}

// beliefTerm is the term of a sidecar's belief in a primary: the electionId term when its mongod
// is that primary (only a primary reports one), else the observer's current term, a bound.
func beliefTerm(ps topology.PrimarySeen) int64 {
	if ps.ElectionTerm > 0 {
		return ps.ElectionTerm
	}
	return ps.Term
}

// incidentOf keys the analysis's trouble by the primary's host and its own term: ownTerm as its
// own sidecar last heard it, else the term its own sidecar last saw it PRIMARY in (a dead
// process learns no newer term). Without its own sidecar the claimed term is all there is.
func incidentOf(snap topology.Snapshot, a Analysis) Incident {
	inc := Incident{Primary: a.Primary, Term: a.Term}
	if a.Primary == "" {
		return inc
	}
	own, ok := observe(snap).ownView(a.Primary)
	if !ok || own.Local.Host != a.Primary || own.Local.State != topology.StatePrimary {
		return inc
	}
	if t := ownTerm(own); t > 0 {
		inc.Term = t
	}
	return inc
}
