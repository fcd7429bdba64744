package accountd

import (
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// User is an account. Email is unique without regard to case.
type User struct {
	ID                string
	Email             string
	FirstName         string
	LastName          string
	CompanyName       string
	Title             string
	PhoneNumber       string
	Location          string
	URL               string
	PasswordHash      string // PHC-encoded argon2id; never leaves the service
	EmailVerified     bool
	TokenCutoff       time.Time // tokens created at or before it fail; zero: none
	CreatedAt         time.Time
	UpdatedAt         time.Time
	PasswordUpdatedAt time.Time
	// TokenGen moves when every token of the user is invalidated at once;
	// a token is valid only while its UserGen equals it.
	TokenGen int64
}

// FullName is "First Last" with the blanks left out.
func (u *User) FullName() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// Profile field limits, from the reference schema (me.json).
const (
	MaxEmailLen   = 1024
	MaxProfileLen = 1024
)

// Validate checks the invariants a stored user must keep.
func (u *User) Validate() error {
	if !ValidID(u.ID) {
		return Invalid("id", "must be 24 hex characters")
	}
	if err := ValidateEmail("email", u.Email); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"firstName", u.FirstName}, {"lastName", u.LastName}, {"companyName", u.CompanyName},
		{"title", u.Title}, {"phoneNumber", u.PhoneNumber}, {"location", u.Location}, {"url", u.URL},
	} {
		if utf8.RuneCountInString(f.value) > MaxProfileLen {
			return Invalid(f.name, "must be at most %d characters", MaxProfileLen)
		}
	}
	if u.PasswordHash == "" {
		return Invalid("password", "is required")
	}
	return nil
}

// ValidateEmail checks that s is a single plain address (no display name)
// within the length limit.
func ValidateEmail(field, s string) error {
	if s == "" {
		return Invalid(field, "is required")
	}
	if len(s) > MaxEmailLen {
		return Invalid(field, "must be at most %d characters", MaxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return Invalid(field, "must be a valid email address")
	}
	return nil
}

// EmailKey is the form in which emails are compared and kept unique.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Password rule of the reference (changePassword.json, mePatch.json): at
// least 12 characters with an upper-case letter, a lower-case letter, a digit
// and a character that is none of those. Go's regexp has no lookaheads, so
// the rule is code.
const (
	MinPasswordLen      = 12
	MaxPasswordLen      = 2048
	MinLoginPasswordLen = 8 // older accounts may have shorter ones: userCredentials allows 8
)

// PasswordRule describes ValidatePassword for error messages and documents.
const PasswordRule = "must be at least 12 characters and contain an upper-case letter, a lower-case letter, a digit and a symbol"

// ValidatePassword applies the password rule to a new password.
func ValidatePassword(field, p string) error {
	n := utf8.RuneCountInString(p)
	if n > MaxPasswordLen {
		return Invalid(field, "must be at most %d characters", MaxPasswordLen)
	}
	if n < MinPasswordLen || !PasswordMeetsRule(p) {
		return Invalid(field, PasswordRule)
	}
	return nil
}

// PasswordMeetsRule reports whether p has each character class the rule
// asks for (the length is checked by the caller).
func PasswordMeetsRule(p string) bool {
	var upper, lower, digit, other bool
	for _, r := range p {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			// the reference pattern's "." matches neither
			return false
		default:
			other = true
		}
	}
	return upper && lower && digit && other
}
