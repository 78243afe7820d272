package main

import "syscall"

// childAttr: own process group, and SIGKILL when the demo dies, however it dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
