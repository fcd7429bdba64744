package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// TestMeIndexPruned: the organization index keeps only users whose state
// is still cached.
func TestMeIndexPruned(t *testing.T) {
	c := newMeViewCache(1<<20, 1<<20)
	for _, u := range []string{"kept", "gone"} {
		e := &meEntry{st: &accountd.MeState{User: &accountd.User{ID: u}, OrgIDs: []string{"org"}}}
		c.index(u, e.st.OrgIDs)
		c.c.Put(u, e, e.size(), time.Time{}, c.c.Generation())
	}
	c.forget("gone")
	c.pruneIndex()
	if got := c.orgs["org"]; len(got) != 1 || !got["kept"] {
		t.Errorf("index after prune = %v, want only kept", got)
	}
	c.forget("kept")
	c.pruneIndex()
	if len(c.orgs) != 0 {
		t.Errorf("index after prune = %v, want empty", c.orgs)
	}
}

// TestMeAnswersKeptWithState: an answer is made once per summary query and
// then served from the user's entry, charged to its budget, for at most
// maxAnswersPerState queries; past them, answers are made every time and
// not kept.
func TestMeAnswersKeptWithState(t *testing.T) {
	s := &Service{meViews: newMeViewCache(1<<20, 1<<20)}
	st := &accountd.MeState{User: &accountd.User{ID: "u", Email: "u@example.com"}, APITokens: 3}
	e := &meEntry{st: st}
	s.meViews.c.Put("u", e, e.size(), time.Time{}, s.meViews.c.Generation())
	_, before := s.meViews.c.Stats()
	made := 0
	encode := func(v *MeView) []byte {
		made++
		return []byte(fmt.Sprintf(`{"id":%q,"summary":%d}`, v.User.ID, len(v.Summary)))
	}
	p := accountd.Principal{UserID: "u"}
	answer := func(exclude ...string) string {
		t.Helper()
		b, err := s.MeAnswer(context.Background(), p, nil, exclude, encode)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	first := answer()
	if again := answer(); again != first || made != 1 {
		t.Fatalf("second answer %q (first %q), made %d times; want the same, made once", again, first, made)
	}
	if _, after := s.meViews.c.Stats(); len(e.answers) != 1 || after != before+answerSize("", e.answers[0].body) {
		t.Errorf("entry accounted at %d after its first answer, want %d", after, before+answerSize("", e.answers[0].body))
	}
	if got := answer("apiTokenCount"); got == first || made != 2 {
		t.Errorf("answer without apiTokenCount %q, made %d times; want its own, made twice", got, made)
	}
	for i := range maxAnswersPerState + 2 {
		answer(fmt.Sprint("q", i)) // names SummaryFields would refuse: only keys here
	}
	if made != 2+maxAnswersPerState+2 {
		t.Fatalf("made %d answers, want %d", made, 2+maxAnswersPerState+2)
	}
	if n := len(e.answers); n != maxAnswersPerState {
		t.Errorf("%d answers kept, want %d", n, maxAnswersPerState)
	}
	made = 0
	answer("q9") // not kept: made again
	answer()     // kept
	if made != 1 {
		t.Errorf("made %d answers, want 1 (the one not kept)", made)
	}
}
