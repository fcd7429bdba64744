package secret

import (
	"crypto/subtle"
	"fmt"
	"io"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters as authenticator apps use them (RFC 6238 defaults): a
// 30-second step, six digits, HMAC-SHA-1.
const (
	TOTPPeriod = 30
	TOTPDigits = 6
	// TOTPSecretSize gives a 52-character base32 secret, the length the
	// reference's twoFactorAuthKey has.
	TOTPSecretSize = 32
)

var totpOpts = totp.ValidateOpts{Period: TOTPPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPKey is a fresh TOTP secret (base32, no padding) and the otpauth://
// URI authenticator apps read.
type TOTPKey struct {
	Secret string
	URI    string
}

// GenerateTOTP makes a new secret for account (the user's email) under
// issuer (the service's name as the app shows it).
func GenerateTOTP(issuer, account string, random io.Reader) (TOTPKey, error) {
	k, err := totp.Generate(totp.GenerateOpts{
		Issuer: issuer, AccountName: account, Period: TOTPPeriod, SecretSize: TOTPSecretSize,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: random,
	})
	if err != nil {
		return TOTPKey{}, fmt.Errorf("secret: generating TOTP key: %w", err)
	}
	return TOTPKey{Secret: k.Secret(), URI: k.URL()}, nil
}

// TOTPCode returns the code of secret for the step that holds t.
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// TOTPStep is the number of the step that holds t.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// MatchTOTP looks for code among the steps around now (one step of clock
// drift either way) that are newer than after, the last step the user had
// accepted, and returns the step it matched. Refusing steps at or before
// after is what stops a code from being used twice.
func MatchTOTP(secret, code string, now time.Time, after int64) (step int64, ok bool) {
	if len(code) != TOTPDigits {
		return 0, false
	}
	cur := TOTPStep(now)
	for s := cur - 1; s <= cur+1; s++ {
		if s <= after {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*TOTPPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}
