package storage

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// killChildEnv, when set to a dbpath, turns TestSIGKILLChild into the writer process that
// TestSIGKILLDurability kills.
const killChildEnv = "RSGUARD_STORAGE_KILL_CHILD_DBPATH"

const killWriters = 4

// TestSIGKILLDurability checks the durability model's claim: with NoSyncEachCommit and no fsync
// at all (the journal interval is an hour), every transaction acknowledged before a SIGKILL is
// there after reopening, document and oplog entry together.
func TestSIGKILLDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGKILLChild$")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir)
	cmd.ExtraFiles = []*os.File{w} // fd 3: one "id" line per acknowledged write
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	acked := map[string]bool{}
	sc := bufio.NewScanner(r)
	deadline := time.Now().Add(60 * time.Second)
	killed := false
	for sc.Scan() {
		acked[sc.Text()] = true
		if !killed && len(acked) >= 2000 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
		if !killed && time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("child acknowledged only %d writes in time", len(acked))
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("child exited by itself after %d writes: %v", len(acked), cmd.ProcessState)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child state %v, want killed by SIGKILL", cmd.ProcessState)
	}

	s, err := Open(dir, Options{}) // the kernel released mongod.lock with the process
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer s.Close()
	err = s.View(func(tx *Tx) error {
		inOplog := map[string]bool{}
		if err := tx.Scan(OplogNS, func(e bson.Raw) (bool, error) {
			inOplog[e.Lookup("o", "_id").StringValue()] = true
			return true, nil
		}); err != nil {
			return err
		}
		n, err := tx.Count("db.c")
		if err != nil {
			return err
		}
		if entries, _ := tx.OplogStats(); entries != n || int64(len(inOplog)) != n {
			t.Errorf("%d documents but %d oplog entries (%d distinct)", n, entries, len(inOplog))
		}
		for id := range acked {
			if _, ok, err := tx.Get("db.c", val(t, id)); err != nil || !ok {
				t.Errorf("acknowledged write %s lost (%v)", id, err)
			}
			if !inOplog[id] {
				t.Errorf("oplog entry of acknowledged write %s lost", id)
			}
		}
		t.Logf("%d writes acknowledged before SIGKILL, %d found after reopening", len(acked), n)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSIGKILLChild is the child side of TestSIGKILLDurability: it writes until killed.
func TestSIGKILLChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("child process of TestSIGKILLDurability")
	}
	s, err := Open(dir, Options{NoSyncEachCommit: true, JournalCommitInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *Tx) error { return tx.CreateCollection("db.c", CollOptions{}) }); err != nil {
		t.Fatal(err)
	}
	ack := os.NewFile(3, "ack")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < killWriters; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("w%d-%d", g, i)
				write := s.Update
				if g > 0 {
					write = s.Batch // writer 0 commits alone, the others group-commit
				}
				if err := write(func(tx *Tx) error { return insertWithOplog(tx, id) }); err != nil {
					fmt.Fprintln(os.Stderr, "child write:", err)
					os.Exit(3)
				}
				mu.Lock()
				_, err := fmt.Fprintln(ack, id)
				mu.Unlock()
				if err != nil && !strings.Contains(err.Error(), "broken pipe") {
					os.Exit(4)
				}
			}
		}()
	}
	wg.Wait()
}

// insertWithOplog inserts {_id: id} and its oplog entry at the next ts, in one transaction.
func insertWithOplog(tx *Tx, id string) error {
	ts := bson.Timestamp{T: 1, I: 1}
	if last, ok, err := tx.OplogLast(); err != nil {
		return err
	} else if ok {
		lts, _ := EntryTS(last)
		ts = bson.Timestamp{T: lts.T, I: lts.I + 1}
	}
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "payload", Value: strings.Repeat("x", 200)}})
	if err != nil {
		return err
	}
	entry, err := bson.Marshal(bson.D{
		{Key: "ts", Value: ts}, {Key: "t", Value: int64(1)}, {Key: "v", Value: int64(2)},
		{Key: "op", Value: "i"}, {Key: "ns", Value: "db.c"}, {Key: "o", Value: bson.Raw(doc)},
	})
	if err != nil {
		return err
	}
	if err := tx.Insert("db.c", doc); err != nil {
		return err
	}
	return tx.AppendOplog(entry)
}
