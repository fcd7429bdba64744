package service

import (
	"testing"
	"time"

	"github.com/accountd/accountd"
)

// TestMeIndexPruned: the organization index keeps only users whose state
// is still cached.
func TestMeIndexPruned(t *testing.T) {
	c := newMeViewCache(1 << 20)
	for _, u := range []string{"kept", "gone"} {
		e := &meEntry{st: &accountd.MeState{User: &accountd.User{ID: u}, OrgIDs: []string{"org"}}, views: map[string]*MeView{}}
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
