package accountd

import (
	"time"
	"unicode/utf8"
)

// TokenKind tells a login session from a personal API token. Both are
// signed the same way and both have a row; only API tokens are listed under
// /me/tokens.
type TokenKind string

const (
	KindSession TokenKind = "session"
	KindAPI     TokenKind = "api"
)

// Token statuses, as the reference names them.
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// Token is the row behind a signed token: its id is the JWT's jti, so any
// change here (status, deletion, expiry) takes effect on the next request.
type Token struct {
	ID          string
	UserID      string
	Kind        TokenKind
	Name        string
	Description string
	Scope       []string
	Status      string
	CreatorType string // "user" or "apiToken"
	CreatorID   string
	CreatorName string
	ExpiresAt   time.Time // zero: never
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastUsedAt  time.Time // zero: never used; kept to about a minute
	// ParentID is the token this one was obtained with, when that one is a
	// personal API token or was itself obtained with one: the token is
	// valid only while its parent is (see Lineage rules in README).
	ParentID string
	// UserGen is the user's TokenGen when the token was issued.
	UserGen int64

	// What a login session records of how and where it began, and where it
	// was last used (to about a minute): see Sessions in README.
	ObtainedVia       string // a Via* value; "" for API tokens
	CreatedAddress    string
	CreatedUserAgent  string
	LastUsedAddress   string
	LastUsedUserAgent string
}

// How a login session was obtained (Token.ObtainedVia).
const (
	ViaPassword = "password"
	ViaGithub   = "github"
	ViaRefresh  = "refresh"
	ViaConsole  = "console"
)

// TokenUse is a use of a token as last recorded: when, and by which client.
type TokenUse struct {
	At        time.Time
	Address   string
	UserAgent string
}

// MaxTokenDepth bounds how many generations a token may be derived through
// (an API token creating an API token creating ...), so checking a chain
// costs a bounded number of lookups.
const MaxTokenDepth = 8

// Token field limits, from the reference schemas (apiTokenPost.json).
const (
	MaxTokenNameLen        = 255
	MaxTokenDescriptionLen = 32767
)

// Expired reports whether the token's expiry has passed at now.
func (t *Token) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Validate checks the invariants a stored token must keep.
func (t *Token) Validate() error {
	if !ValidID(t.ID) || !ValidID(t.UserID) {
		return Invalid("id", "must be 24 hex characters")
	}
	if t.Kind != KindSession && t.Kind != KindAPI {
		return Invalid("kind", "must be session or api")
	}
	if t.Kind == KindAPI {
		if n := utf8.RuneCountInString(t.Name); n < 1 || n > MaxTokenNameLen {
			return Invalid("name", "must be 1 to %d characters", MaxTokenNameLen)
		}
	}
	if utf8.RuneCountInString(t.Description) > MaxTokenDescriptionLen {
		return Invalid("description", "must be at most %d characters", MaxTokenDescriptionLen)
	}
	if t.Status != StatusActive && t.Status != StatusInactive {
		return Invalid("status", "must be active or inactive")
	}
	if len(t.Scope) == 0 {
		return Invalid("scope", "must name at least one scope")
	}
	return nil
}

// TokenQuery selects a page of a user's API tokens, as GET /me/tokens does.
type TokenQuery struct {
	SortField     string // name, status, id, creationDate, lastUpdated, expirationDate
	SortDirection string // asc or desc
	Page          int    // from 0
	PerPage       int
	FilterField   string // "", name or status
	Filter        string // glob: * matches any run of characters
}

// Token list sort fields and filter fields the reference accepts.
var (
	TokenSortFields   = []string{"name", "status", "id", "creationDate", "lastUpdated", "expirationDate"}
	TokenFilterFields = []string{"name", "status"}
)

// Paging limits for every list.
const (
	DefaultPerPage = 100
	MaxPerPage     = 1000
)
