package accountd

import (
	"context"
	"time"
)

// Store persists users and tokens and enforces their constraints (unique
// email, existence); business rules live in service/. Implementations:
// sqlite/ and postgres/, both checked by storetest/.
//
// Errors: a missing row is ErrNotFound (NotFound("user"), NotFound("API
// token")); a duplicate email is ErrConflict; anything else is Internal.
type Store interface {
	SecurityStore
	OrgStore
	UsageStore
	ThrottleStore
	SecurityLogStore

	// InTx runs fn in one transaction: its writes land together or not at
	// all. fn must use the Store it is given.
	InTx(ctx context.Context, fn func(tx Store) error) error

	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	// MeState reads the user and everything GET /me shows of them in one
	// round trip.
	MeState(ctx context.Context, id string) (*MeState, error)
	// UserForUpdate reads the user and, inside InTx, holds the row until
	// the transaction ends, so that decisions on the user's credentials are
	// taken on what is committed.
	UserForUpdate(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Users lists every user, oldest first.
	Users(ctx context.Context) ([]*User, error)
	// UpdateUser writes every field of u (matched by id) and records an
	// AuthEvent for the user, since its cut-off may have moved.
	UpdateUser(ctx context.Context, u *User) error
	// RehashPassword replaces the user's password hash old with new (the
	// same password under other parameters), and does nothing when the
	// hash is no longer old. It records no event: nothing cached changes.
	RehashPassword(ctx context.Context, id, old, new string) error
	// DeleteUser removes the user and all their tokens and usage, and
	// records an AuthEvent for the user.
	DeleteUser(ctx context.Context, id string) error

	CreateToken(ctx context.Context, t *Token) error
	Token(ctx context.Context, id string) (*Token, error)
	// Tokens returns one page of the user's tokens of the given kind, and how
	// many match the filter in all.
	Tokens(ctx context.Context, userID string, kind TokenKind, q TokenQuery) ([]*Token, int, error)
	CountTokens(ctx context.Context, userID string, kind TokenKind) (int, error)
	// UpdateToken writes name, description, status, scope, expiry and
	// updated time, and records an AuthEvent for the token.
	UpdateToken(ctx context.Context, t *Token) error
	// DeleteToken removes the token and every token obtained with it
	// (ParentID, at any depth), recording an AuthEvent for each.
	DeleteToken(ctx context.Context, id string) error
	// TouchTokens records last uses (time, address, user agent) in one go;
	// unknown ids are skipped and a use older than the one recorded is
	// ignored.
	TouchTokens(ctx context.Context, uses map[string]TokenUse) error
	// SessionTokens lists the user's login sessions that have not expired
	// at now, newest first.
	SessionTokens(ctx context.Context, userID string, now time.Time) ([]*Token, error)
	// DeleteExpiredTokens removes tokens of the kind whose expiry is at or
	// before before, and says how many went.
	DeleteExpiredTokens(ctx context.Context, kind TokenKind, before time.Time) (int, error)

	// AuthEventsAfter lists up to limit events numbered after seq, oldest
	// first. Numbers become visible in order: once an event is seen, no
	// event with a smaller number will appear later (holes may stay). So an
	// instance that has read up to seq has seen every change committed
	// before its read, and follows the others by remembering one number.
	AuthEventsAfter(ctx context.Context, seq int64, limit int) ([]AuthEvent, error)
	// LastAuthEvent is the number of the newest event (0: none).
	LastAuthEvent(ctx context.Context) (int64, error)
	// PruneAuthEvents removes events older than age.
	PruneAuthEvents(ctx context.Context, age time.Duration) error

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// AuthEvent says that a token (TokenID), everything of a user (TokenID
// empty) or what an organization's members see (OrgID) must be looked up
// again before it is trusted.
type AuthEvent struct {
	Seq     int64
	UserID  string
	TokenID string
	// OrgID, with UserID and TokenID empty, says that what the members of
	// the organization see (their summary counts) changed.
	OrgID string
}

// MeState is what GET /me shows of a user, but usage, as one read: the
// user, the counts of the summary, the two-factor and GitHub state, and the
// organizations the user belongs to (whose changes move the counts).
type MeState struct {
	User                                        *User
	APITokens, Apps, Dashboards, Devices, Flows int
	Orgs                                        int
	TwoFactor                                   bool
	GithubLogin                                 string
	OrgIDs                                      []string
}
