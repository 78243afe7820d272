//go:build !linux

package main

import (
	"os"
	"syscall"
)

// dieBySignal approximates mongod's abort() where the default disposition cannot be restored:
// a shell's 128+signal status.
func dieBySignal(sig syscall.Signal) { os.Exit(128 + int(sig)) }
