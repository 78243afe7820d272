//go:build linux

package main

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// dieBySignal ends the process with sig's default action, as mongod's std::abort() does after a
// fatal assertion: the parent sees "signal: aborted" (and a core if RLIMIT_CORE allows), not an
// exit status. Go's runtime handles SIGABRT itself (a goroutine dump, then exit 2), so the
// default disposition is restored with rt_sigaction before raising it.
func dieBySignal(sig syscall.Signal) {
	var act [4]uintptr // struct kernel_sigaction, all zero: SIG_DFL, no flags, empty mask
	_, _, _ = syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	_ = syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Second) // the signal is delivered asynchronously to some thread
	os.Exit(128 + int(sig))
}
