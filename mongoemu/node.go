package mongoemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rsguard/rsguard/mongoemu/storage"
)

// Node is one emulated mongod process.
type Node struct {
	opts    Options
	log     *slog.Logger
	events  *eventLog
	store   *storage.Store
	started time.Time
	host    string // "me": how this node names itself, bindIP:port

	mu   sync.Mutex // guards topo and everything the repl coordinator keeps under n.mu
	topo topologyVersion
	repl *replCoord // nil for a standalone (no --replSet)
	auth *authState // --auth, --keyFile, --tlsMode (auth_session.go)

	listeners []net.Listener
	conns     connSet
	cursors   *cursorSet
	fail      *failPoints
	fsync     *fsyncLock
	locks     *nodeLocks  // the global lock and the RSTL (rstl.go)
	ops       *opRegistry // operations in flight, for the kill-op step of state transitions
	counters  opCounters
	params    *parameters
	cmds      commandTable
	connIDs   atomic.Int64

	shutdownStarted atomic.Bool
	quiesceUntil    atomic.Int64  // unix nanos when quiesce ends; 0 when not quiescing (shutdown.go)
	quit            chan struct{} // closed when the node stops
	stopOnce        sync.Once
	serveMu         sync.Mutex
	done            chan struct{} // closed when Stop finished
	aborted         chan struct{} // closed by abort: Serve returns at once
	wg              sync.WaitGroup
	exitErr         error
}

// New opens the dbpath (refusing one locked by another process, like mongod) and binds the
// listeners. Call Serve to accept connections.
func New(opts Options) (*Node, error) {
	if opts.DBPath == "" {
		return nil, errors.New("--dbpath is required")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	params, err := newParameters(opts.Parameters)
	if err != nil {
		return nil, err
	}
	n := &Node{
		opts:    opts,
		log:     logger,
		started: time.Now(),
		topo:    newTopologyVersion(),
		cursors: newCursorSet(),
		fail:    newFailPoints(),
		params:  params,
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		aborted: make(chan struct{}),
		locks:   newNodeLocks(),
		ops:     newOpRegistry(),
	}
	n.conns.init()
	if err := n.fail.startupFailPoints(opts.Parameters); err != nil {
		return nil, err
	}
	n.fsync = newFsyncLock()
	if n.events, err = newEventLog(opts.LogPath, logger); err != nil {
		return nil, err
	}
	st, err := storage.Open(opts.DBPath, storage.Options{OplogSizeMB: opts.OplogSizeMB, Logger: logger, NoSyncEachCommit: true})
	if err != nil {
		n.events.close()
		return nil, fmt.Errorf("open dbpath: %w", err)
	}
	n.store = st
	n.logUncleanShutdown()
	if n.auth, err = n.newAuth(); err != nil { // auth_startup.go
		_ = st.Close()
		n.events.close()
		return nil, err
	}
	if err := n.listen(); err != nil {
		_ = st.Close()
		n.events.close()
		return nil, err
	}
	n.events.slogger = n.events.slogger.With("me", n.host) // several nodes may share one logger
	if opts.ReplSet != "" {
		if n.repl, err = newReplCoord(n); err != nil {
			n.closeListeners()
			_ = st.Close()
			n.events.close()
			return nil, err
		}
	}
	n.wireStalls()
	n.cmds = n.buildCommands()
	n.events.info("NETWORK", 23016, "Waiting for connections", "port", n.Port(), "ssl", n.sslLogValue())
	return n, nil
}

func (n *Node) listen() error {
	port := n.opts.Port
	ips := strings.Split(n.opts.BindIP, ",")
	if n.opts.BindIP == "" {
		ips = []string{"127.0.0.1"}
	}
	for _, ip := range ips {
		ip = strings.TrimSpace(ip)
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			n.closeListeners()
			return fmt.Errorf("listen on %s:%d: %w", ip, port, err)
		}
		if port == 0 {
			port = ln.Addr().(*net.TCPAddr).Port
		}
		n.listeners = append(n.listeners, ln)
	}
	n.host = n.opts.hostPort(port)
	return nil
}

func (n *Node) closeListeners() {
	for _, ln := range n.listeners {
		_ = ln.Close()
	}
}

// Port is the bound TCP port.
func (n *Node) Port() int { return n.listeners[0].Addr().(*net.TCPAddr).Port }

// Addr is host:port as this node names itself.
func (n *Node) Addr() string { return n.host }

// Serve accepts connections until the node stops; it returns the reason the node stopped (nil for
// a clean shutdown command or Stop).
func (n *Node) Serve(ctx context.Context) error {
	// serveMu orders the first wg.Add before a concurrent Stop's wg.Wait (sync.WaitGroup rule).
	n.serveMu.Lock()
	if !n.shutdownStarted.Load() {
		for _, ln := range n.listeners {
			n.wg.Add(1)
			go n.acceptLoop(ln)
		}
		if n.repl != nil {
			n.repl.start()
		}
	}
	n.serveMu.Unlock()
	select {
	case <-ctx.Done():
		n.Stop(nil)
	case <-n.quit:
	}
	select {
	case <-n.done:
	case <-n.aborted: // a process that aborts does not wait for its stuck threads
	}
	return n.exitErr
}

func (n *Node) acceptLoop(ln net.Listener) {
	defer n.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		if n.stopping() { // during quiesce new connections are still accepted (shutdown.go)
			_ = nc.Close()
			continue
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			wc, err := n.wrapTLS(nc) // tls.go: --tlsMode
			if err != nil {
				_ = nc.Close()
				return
			}
			newConn(n, wc).serve()
		}()
	}
}

// beginStop is the start shared by Stop and abort (under stopOnce): no new connection or Serve
// loop starts, Serve will report exit, and quit wakes everyone waiting on the node.
func (n *Node) beginStop(exit error) {
	n.serveMu.Lock()
	n.shutdownStarted.Store(true)
	n.serveMu.Unlock()
	n.exitErr = exit
	close(n.quit)
}

// Stop shuts the node down now: listeners and connections close, background work stops, the
// store is closed. exit is reported by Serve (nil for a requested shutdown).
func (n *Node) Stop(exit error) {
	n.stopOnce.Do(func() {
		n.beginStop(exit)
		n.closeListeners()
		// Unblock writers first (mongod's fsync shutdown task unlocks before the rest), so no
		// background loop stays blocked in storage or on the global lock while we wait for it.
		n.fsync.release()
		n.locks.releaseAll()
		n.store.SetWriteBlocked(false)
		n.locks.shut(errShutdownInterrupt())
		if n.repl != nil {
			n.repl.stop()
		}
		n.conns.closeAll()
		n.wg.Wait()
		n.cursors.closeAll()
		_ = n.store.Close()
		n.events.info("CONTROL", 20565, "Now exiting")
		n.events.close()
		close(n.done)
	})
}

// Done is closed once the node has stopped.
func (n *Node) Done() <-chan struct{} { return n.done }

// bumpTopology records a hello-visible change (spec §2.4); n.mu must be held.
func (n *Node) bumpTopology() { n.topo.bump() }

func (n *Node) uptime() time.Duration { return time.Since(n.started) }
