//go:build !linux

package main

import "syscall"

// childAttr: own process group. Without a parent-death signal the demo's cleanup is the only
// guarantee; loopback addresses other than 127.0.0.1 need Linux anyway.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
