// Package demo is a narrated drill on a local set: three mongods (or mongoemu) run by their
// rsguard sidecars plus an arbiter sidecar on 127.0.0.N, a w:"majority" workload, a kill of
// the primary, and the failover, the operator's switchover and resync, and the history told as
// they happen. cmd/supervisor's demo command only parses its flags and calls Run.
package demo
