package service

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"

	"github.com/accountd/accountd"
)

// AvatarURL is the picture shown for a user (avatarUrl in me.json and in
// an organization's members): their GitHub picture when their account is
// linked to GitHub, otherwise the Gravatar of their email address (by its
// SHA-256, which Gravatar accepts), with a generated pattern for an
// address that has none. Nothing is fetched here; it is a URL a browser
// loads, and it reveals no more than the email's hash.
func AvatarURL(email, githubLogin string) string {
	if githubLogin != "" {
		return "https://github.com/" + url.PathEscape(githubLogin) + ".png"
	}
	sum := sha256.Sum256([]byte(accountd.EmailKey(email)))
	return "https://www.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?d=identicon"
}
