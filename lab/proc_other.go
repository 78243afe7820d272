//go:build !linux

package lab

import "syscall"

// procAttr: own process group. Without a parent-death signal the owner's Close is the only
// guarantee; loopback addresses other than 127.0.0.1 need Linux anyway.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// intoCgroup: cgroups are Linux only; hosts never get one elsewhere.
func intoCgroup(*syscall.SysProcAttr, int) {}
