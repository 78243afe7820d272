package check_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rsguard/rsguard/drill/check"
)

// memStore is an in-memory register store. Writes go to the primary under a
// lock, so the store is linearizable, unless staleReads is set: the
// deliberately broken policy serves reads from a replica that is one write
// behind on every key (a read from a lagging secondary or a deposed
// primary, i.e. reads without majority/linearizable read concern).
type memStore struct {
	mu         sync.Mutex
	primary    map[string]int64
	replica    map[string]int64
	staleReads bool
	// faults: every faultEvery-th write is refused before it is applied
	// (NotWritablePrimary) or applied and then answered with a timeout.
	faultEvery int
	writes     int
}

var (
	errNotWritablePrimary = errors.New("NotWritablePrimary")
	errTimeout            = errors.New("context deadline exceeded")
)

func newMemStore(staleReads bool, faultEvery int) *memStore {
	return &memStore{primary: map[string]int64{}, replica: map[string]int64{}, staleReads: staleReads, faultEvery: faultEvery}
}

// fault decides, for a write about to be applied, whether it is refused
// (before) or its acknowledgement is lost (after).
func (s *memStore) fault() (refuse, lostAck bool) {
	s.writes++
	if s.faultEvery == 0 || s.writes%s.faultEvery != 0 {
		return false, false
	}
	if (s.writes/s.faultEvery)%2 == 0 {
		return true, false
	}
	return false, true
}

func (s *memStore) set(key string, v int64) {
	s.replica[key] = s.primary[key]
	s.primary[key] = v
}

func (s *memStore) Read(key string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.staleReads {
		return s.replica[key]
	}
	return s.primary[key]
}

func (s *memStore) Write(key string, v int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	refuse, lostAck := s.fault()
	if refuse {
		return errNotWritablePrimary
	}
	s.set(key, v)
	if lostAck {
		return errTimeout
	}
	return nil
}

func (s *memStore) CAS(key string, old, v int64) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	refuse, lostAck := s.fault()
	if refuse {
		return false, errNotWritablePrimary
	}
	ok := s.primary[key] == old
	if ok {
		s.set(key, v)
	}
	if lostAck {
		return false, errTimeout
	}
	return ok, nil
}

// classify is what a drill's classifier does with driver errors: only a
// refusal before the write certainly means "not applied".
func classify(err error) check.Outcome {
	if errors.Is(err, errNotWritablePrimary) {
		return check.OutcomeFailed
	}
	return check.OutcomeUnknown
}

// runWorkload runs clients concurrently, each doing ops operations on two
// shared keys and one key of its own. Every value written is unique. Each
// client starts by writing its own key and reading it back.
func runWorkload(t *testing.T, s *memStore, clients, ops int) *check.History {
	t.Helper()
	h := check.NewHistory(check.HistoryOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			own := fmt.Sprintf("c%d", c)
			seq := int64(0)
			next := func() int64 { seq++; return int64(c+1)*1_000_000 + seq }
			last := map[string]int64{}
			run := func(op check.Op) error {
				id, err := h.Begin(c, op)
				if err != nil {
					return err
				}
				var out check.Output
				var opErr error
				switch op.Kind {
				case check.OpRead:
					out.Value = s.Read(op.Key)
					last[op.Key] = out.Value
				case check.OpWrite:
					opErr = s.Write(op.Key, op.Value)
				case check.OpCAS:
					out.OK, opErr = s.CAS(op.Key, op.Old, op.New)
				}
				return h.End(id, out, opErr, classify)
			}
			if err := run(check.Write(own, next())); err != nil {
				errs <- err
				return
			}
			if err := run(check.Read(own)); err != nil {
				errs <- err
				return
			}
			keys := []string{"k0", "k1", own}
			for range ops {
				key := keys[rng.IntN(len(keys))]
				var op check.Op
				switch rng.IntN(3) {
				case 0:
					op = check.Read(key)
				case 1:
					op = check.Write(key, next())
				default:
					op = check.CAS(key, last[key], next())
				}
				if err := run(op); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("workload: %v", err)
	}
	return h
}

func TestCorrectStorePasses(t *testing.T) {
	s := newMemStore(false, 13)
	h := runWorkload(t, s, 4, 60)
	res, err := check.CheckLinearizable(h, 10*time.Second, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() != nil {
		t.Fatalf("correct store: %v", res.Err())
	}
	if res.Counts.Failed == 0 || res.Counts.Unknown == 0 {
		t.Fatalf("counts %+v: the workload should include failed and unknown writes", res.Counts)
	}
	t.Log(res)
}

func TestBrokenStoreIsCaught(t *testing.T) {
	s := newMemStore(true, 13)
	h := runWorkload(t, s, 4, 60)
	res, err := check.CheckLinearizable(h, 10*time.Second, t.TempDir()+"/broken.html")
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != check.NotLinearizable || !errors.Is(res.Err(), check.ErrNotLinearizable) {
		t.Fatalf("broken store: verdict %s; want not-linearizable", res.Verdict)
	}
	if !strings.Contains(res.Explanation, `key "`) || res.Visualization == "" {
		t.Fatalf("explanation %q, visualization %q: want a key named and a file", res.Explanation, res.Visualization)
	}
	t.Logf("caught: %v", res.Err())
}
