package check

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestInsertAccountingReportsLostAndPhantom(t *testing.T) {
	in := NewInserts()
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := in.Attempt(id); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		if err := in.Ack(id); err != nil {
			t.Fatal(err)
		}
	}
	// "b" was acknowledged and is gone; "d" timed out but committed
	// (allowed); "zz" was never attempted.
	present := map[string]bool{"a": true, "c": true, "d": true, "zz": true}
	if got := Lost(in.Acked(), present); !reflect.DeepEqual(got, []string{"b"}) {
		t.Errorf("Lost = %q; want [b]", got)
	}
	if got := Phantoms(in.Attempted(), present); !reflect.DeepEqual(got, []string{"zz"}) {
		t.Errorf("Phantoms = %q; want [zz]", got)
	}
	acc := in.Account(present)
	if acc.Attempted != 4 || acc.Acked != 3 || acc.Present != 4 || acc.UnackedPresent != 1 {
		t.Errorf("accounting %+v; want 4 attempted, 3 acked, 4 present, 1 unacked present", acc)
	}
	err := acc.Err()
	if !errors.Is(err, ErrLostWrites) || !strings.Contains(err.Error(), `"b"`) || !strings.Contains(err.Error(), `"zz"`) {
		t.Fatalf("Err() = %v; want ErrLostWrites naming b and zz", err)
	}
}

func TestInsertAccountingPasses(t *testing.T) {
	in := NewInserts()
	for _, id := range []string{"a", "b", "c"} {
		if err := in.Attempt(id); err != nil {
			t.Fatal(err)
		}
	}
	_ = in.Ack("a")
	_ = in.Ack("b")
	// "c" was not acked and is absent: fine (the insert failed or was lost
	// before it was acknowledged).
	if err := in.Account(map[string]bool{"a": true, "b": true}).Err(); err != nil {
		t.Fatalf("Err() = %v; want nil", err)
	}
}

func TestInsertsRejectBadInput(t *testing.T) {
	in := NewInserts()
	if err := in.Attempt(""); err == nil {
		t.Error("Attempt(\"\"): no error")
	}
	_ = in.Attempt("a")
	if err := in.Attempt("a"); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("Attempt twice: %v; want error naming a", err)
	}
	if err := in.Ack("nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Ack of unattempted: %v; want error naming nope", err)
	}
}
