// Package mongoemu is a MongoDB 7.0 replica-set member emulator speaking the real wire protocol.
//
// It exists because no mongod can be installed on rsguard's build machines. It is not a mock:
// nodes keep durable data in their dbpath, answer the official driver exactly as mongod would
// (docs/mongod-spec.md §1, §2, §6), and — in replica-set mode — elect, replicate and roll back on
// their own over the wire protocol (§3-§7). The supervisor must never be able to tell it from a
// real mongod for anything it touches.
//
// Layout: node.go owns the process-level state; conn.go the per-connection loop; dispatch.go the
// command table; reply.go the reply envelope; hello.go and topology.go the hello/topologyVersion
// machinery; cmd_*.go the commands; repl_*.go the replication coordinator.
package mongoemu
