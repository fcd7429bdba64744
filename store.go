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

	// InTx runs fn in one transaction: its writes land together or not at
	// all. fn must use the Store it is given.
	InTx(ctx context.Context, fn func(tx Store) error) error

	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	// Users lists every user, oldest first.
	Users(ctx context.Context) ([]*User, error)
	// UpdateUser writes every field of u (matched by id) and records an
	// AuthEvent for the user, since its cut-off may have moved.
	UpdateUser(ctx context.Context, u *User) error
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
	// DeleteToken removes the token and records an AuthEvent for it.
	DeleteToken(ctx context.Context, id string) error
	// TouchTokens records last-use times in one go; unknown ids are skipped.
	TouchTokens(ctx context.Context, lastUsed map[string]time.Time) error
	// DeleteExpiredTokens removes tokens of the kind whose expiry is at or
	// before before, and says how many went.
	DeleteExpiredTokens(ctx context.Context, kind TokenKind, before time.Time) (int, error)

	// AuthEvents lists the events recorded within the last window, by the
	// database's clock, so that every instance sharing the database sees
	// every change to a token or a user's cut-off whatever its own clock.
	AuthEvents(ctx context.Context, window time.Duration) ([]AuthEvent, error)
	// PruneAuthEvents removes events older than age.
	PruneAuthEvents(ctx context.Context, age time.Duration) error

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// AuthEvent says that a token (TokenID) or everything of a user (TokenID
// empty) must be looked up again before it is trusted.
type AuthEvent struct {
	Seq     int64
	UserID  string
	TokenID string
}
