// Package mongo is rsguard's only door to MongoDB: the one package that imports the official Go
// driver (DESIGN.md, L1). It offers a small Node interface over the commands a supervisor needs
// (hello, replSetGetStatus, replSetGetConfig, replSetStepDown, replSetStepUp, replSetFreeze,
// replSetReconfig, a w:"majority" write probe, shutdown), a driver implementation that keeps one
// direct connection to one mongod, and the mapping of replies into topology types.
//
// Replies are decoded leniently: numeric fields switch between int32, int64 and double across
// server versions (spec §3.4), so the decoders read any number and treat a missing or null field
// as its zero value or mongod's documented default.
//
// For tools that drive a whole set: SetClient (an application-like insert workload) and
// RegisterClient (register reads with a readConcern, w:"majority" writes and CASes, inserts, for
// the linearizability drills of drill/check; NotApplied tells a certainly failed operation from
// one of unknown outcome).
//
// Errors name the command and the host and wrap the cause. Classify turns any error into a
// topology.FailureKind; server replies with ok:0 surface as *CommandError.
package mongo
