package engine

import (
	"errors"
	"testing"
)

func TestTriggerRefusesAChannelThisRunnerDoesNotRun(t *testing.T) {
	r := &Runner{}
	if err := r.Trigger("contoso", Full); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("got %v", err)
	}
}

func TestALaterTriggerReplacesTheOneWaiting(t *testing.T) {
	r := &Runner{}
	ch := r.triggerOf("contoso")
	if err := r.Trigger("contoso", Incremental); err != nil {
		t.Fatal(err)
	}
	if err := r.Trigger("contoso", Verify); err != nil {
		t.Fatal(err)
	}
	if got := <-ch; got != Verify {
		t.Fatalf("waiting request %q, want verify", got)
	}
}
