// Package topology holds the plain types the rest of rsguard shares: mongod's member states,
// optimes, what one sidecar sees at one instant (MemberView, gossiped between sidecars as JSON) and
// the merged Snapshot the election core decides on.
//
// It is L0: standard library only, no I/O, no clock. Times are always passed in by the caller so
// the election core stays a pure function (DESIGN.md principle 4).
package topology
