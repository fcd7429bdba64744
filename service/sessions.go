package service

import (
	"context"
	"errors"
	"strconv"

	"github.com/accountd/accountd"
)

// Session is one live login session of a user, as GET /me/sessions lists
// it: its token's row, with the last use this instance has noted but not
// yet written folded in, and whether it is the caller's own.
type Session struct {
	*accountd.Token
	Current bool
}

// Sessions lists the user's live login sessions, newest first: those that
// would authenticate now (not expired, issued after the user's cut-off and
// under their current token generation, every token they were obtained
// with still valid). Personal API tokens are not sessions.
func (s *Service) Sessions(ctx context.Context, p accountd.Principal) ([]Session, error) {
	u, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return s.liveSessions(ctx, p, u)
}

func (s *Service) liveSessions(ctx context.Context, p accountd.Principal, u *accountd.User) ([]Session, error) {
	var (
		out []Session
		err error
	)
	// A flush finishing between reading the rows and looking at the uses
	// not yet written could hide one: then read again (flushes are a
	// minute apart, so once is nearly always enough).
	for range 3 {
		flushed := s.auth.uses.flushed.Load()
		if out, err = s.readSessions(ctx, p, u); err != nil || s.auth.uses.flushed.Load() == flushed {
			break
		}
	}
	return out, err
}

func (s *Service) readSessions(ctx context.Context, p accountd.Principal, u *accountd.User) ([]Session, error) {
	now := s.now()
	tokens, err := s.store.SessionTokens(ctx, u.ID, now)
	if err != nil {
		return nil, err
	}
	ue := &userEntry{cutoff: u.TokenCutoff, gen: u.TokenGen}
	out := make([]Session, 0, len(tokens))
	for _, t := range tokens {
		e := &tokenEntry{userID: t.UserID, active: t.Status == accountd.StatusActive, gen: t.UserGen,
			expiresAt: unixNano(t.ExpiresAt), createdAt: t.CreatedAt.UnixNano()}
		if !e.valid(u.ID, ue, now) {
			continue
		}
		if t.ParentID != "" {
			ok, err := s.chainValid(ctx, s.store, u, t.ParentID)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		if use, ok := s.auth.uses.pending(t.ID); ok && use.At.After(t.LastUsedAt) {
			t.LastUsedAt, t.LastUsedAddress, t.LastUsedUserAgent = use.At, use.Address, use.UserAgent
		}
		out = append(out, Session{Token: t, Current: t.ID == p.TokenID})
	}
	return out, nil
}

func errNoSession() error { return accountd.NotFound("session") }

// RevokeSession signs one of the user's sessions out: its token (and every
// token obtained with it) is deleted, so it is refused at once here and
// within FreshnessBound on every other instance. Revoking the caller's own
// session, or one it was obtained with, signs the caller out too. Another
// user's session, a personal API token or an unknown id is "not found".
func (s *Service) RevokeSession(ctx context.Context, p accountd.Principal, id string) error {
	if !accountd.ValidID(id) {
		return accountd.Invalid("sessionId", "must be 24 hex characters")
	}
	t, err := s.store.Token(ctx, id)
	if errors.Is(err, accountd.ErrNotFound) || err == nil && (t.UserID != p.UserID || t.Kind != accountd.KindSession) {
		return errNoSession()
	}
	if err != nil {
		return err
	}
	err = s.revokeToken(ctx, t, SecurityEntry{UserID: t.UserID, Kind: accountd.SecSessionRevoked,
		ObjectType: "session", ObjectID: t.ID, Detail: map[string]string{"obtainedVia": t.ObtainedVia}})
	if errors.Is(err, accountd.ErrNotFound) {
		return errNoSession()
	}
	return err
}

// RevokeOtherSessions signs out every live session of the user but the
// caller's own and those it was obtained with (revoking those would sign
// the caller out too), and says how many it revoked. A personal API token
// as caller keeps no session.
func (s *Service) RevokeOtherSessions(ctx context.Context, p accountd.Principal) (int, error) {
	u, err := s.store.User(ctx, p.UserID)
	if err != nil {
		return 0, err
	}
	keep, err := s.lineage(ctx, p.TokenID)
	if err != nil {
		return 0, err
	}
	live, err := s.liveSessions(ctx, p, u)
	if err != nil {
		return 0, err
	}
	var (
		revoked []string
		ann     announcements
	)
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		revoked, ann = revoked[:0], nil
		for _, sess := range live {
			if keep[sess.ID] {
				continue
			}
			switch err := tx.DeleteToken(ctx, sess.ID); {
			case err == nil:
				revoked = append(revoked, sess.ID)
			case errors.Is(err, accountd.ErrNotFound):
				// gone meanwhile (revoked elsewhere, or with its parent)
			default:
				return err
			}
		}
		if len(revoked) == 0 {
			return nil
		}
		// One entry for the whole sign-out, so a user with many sessions
		// does not get a log page of them.
		return ann.record(ctx, s, tx, SecurityEntry{UserID: p.UserID, Kind: accountd.SecSessionRevoked,
			ObjectType: "session", Detail: map[string]string{"others": "true", "count": strconv.Itoa(len(revoked))}})
	})
	if err != nil {
		return 0, err
	}
	for _, id := range revoked {
		s.forgetToken(p.UserID, id)
	}
	ann.run()
	return len(revoked), nil
}

// lineage returns the token id and the ids of every token it was obtained
// with.
func (s *Service) lineage(ctx context.Context, id string) (map[string]bool, error) {
	out := map[string]bool{}
	for depth := 0; id != "" && depth <= accountd.MaxTokenDepth; depth++ {
		out[id] = true
		t, err := s.store.Token(ctx, id)
		if errors.Is(err, accountd.ErrNotFound) {
			break
		}
		if err != nil {
			return nil, err
		}
		id = t.ParentID
	}
	return out, nil
}
