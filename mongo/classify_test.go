package mongo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rsguard/rsguard/topology"
)

func dialTest(t *testing.T, addr string) *DriverNode {
	t.Helper()
	n, err := Dial(t.Context(), slog.New(slog.DiscardHandler), Options{URI: addr, ConnectTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n.Close(ctx)
	})
	return n
}

// A closed port gives a real ECONNREFUSED: the mongod process is gone.
func TestClassifyRefusedThroughDriver(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	n := dialTest(t, addr)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = n.Hello(ctx)
	if err == nil {
		t.Fatal("hello to a closed port succeeded")
	}
	if got := Classify(err); got != topology.FailureRefused {
		t.Errorf("Classify = %q, want refused; err: %v", got, err)
	}
	if !strings.HasPrefix(err.Error(), "hello on "+addr+": ") {
		t.Errorf("error does not name the command and host: %v", err)
	}
	if ctx.Err() != nil {
		t.Error("a refused connection should fail within the server selection timeout, not the caller's deadline")
	}
	// A caller deadline shorter than server selection still finds the refusal.
	short, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	if _, err := n.Status(short); Classify(err) != topology.FailureRefused {
		t.Errorf("short deadline: Classify = %q; err: %v", Classify(err), err)
	}
}

// A listener that accepts but never answers looks like a frozen host or a stalled mongod.
func TestClassifyTimeoutThroughDriver(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never read, never answered
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range held {
			c.Close()
		}
	})

	n := dialTest(t, ln.Addr().String())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err = n.Status(ctx)
	if err == nil {
		t.Fatal("status from a silent listener succeeded")
	}
	if got := Classify(err); got != topology.FailureTimeout {
		t.Errorf("Classify = %q, want timeout; err: %v", got, err)
	}
	if !strings.HasPrefix(err.Error(), "replSetGetStatus on ") {
		t.Errorf("error does not name the command: %v", err)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	refusedErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name string
		err  error
		want topology.FailureKind
	}{
		{"nil", nil, topology.FailureNone},
		{"refused", fmt.Errorf("hello on h:1: %w", refusedErr), topology.FailureRefused},
		{"refused as text", errors.New("dial tcp 127.0.0.2:27017: connect: connection refused"), topology.FailureRefused},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), topology.FailureTimeout},
		{"net timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, topology.FailureTimeout},
		{"os deadline", os.ErrDeadlineExceeded, topology.FailureTimeout},
		{"eof", io.EOF, topology.FailureOther},
		{"canceled", context.Canceled, topology.FailureOther},
		{"server said no", &CommandError{Code: CodeNotWritablePrimary, CodeName: "NotWritablePrimary"}, topology.FailureOther},
		{"server timeout is a reply", &CommandError{Code: CodeMaxTimeMSExpired, err: context.DeadlineExceeded}, topology.FailureOther},
	} {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestClassifyProbe(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want ProbeFailure
	}{
		{nil, ProbeOK},
		{&CommandError{Code: CodeWriteConcernFailed, WriteConcern: true}, ProbeWriteConcern},
		{&CommandError{Code: CodeNotWritablePrimary}, ProbeNotPrimary},
		{&CommandError{Code: CodeInterruptedDueToReplStateChange}, ProbeNotPrimary},
		{&CommandError{Code: CodePrimarySteppedDown, WriteConcern: true}, ProbeNotPrimary},
		{&CommandError{Code: CodeShutdownInProgress}, ProbeShutdown},
		{&CommandError{Code: CodeMaxTimeMSExpired}, ProbeTimeout},
		{&CommandError{Code: CodeUnauthorized}, ProbeError},
		{context.DeadlineExceeded, ProbeTimeout},
		{syscall.ECONNREFUSED, ProbeRefused},
		{io.EOF, ProbeError},
	} {
		if got := ClassifyProbe(tc.err); got != tc.want {
			t.Errorf("ClassifyProbe(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestCommandErrorText(t *testing.T) {
	err := opError("replSetStepUp", "127.0.0.2:27017", &CommandError{Code: 125, CodeName: "CommandFailed", Msg: "Election failed."})
	if got, want := err.Error(), "replSetStepUp on 127.0.0.2:27017: CommandFailed (125): Election failed."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !HasCode(err, CodeCommandFailed) || ErrorCode(err) != 125 || HasCode(err, 0) {
		t.Error("code helpers")
	}
}
