package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/accountd/accountd/client"
	"github.com/accountd/accountd/internal/testenv"
	"github.com/accountd/accountd/secret"
)

// TestTokenTextChecked: a token's cache entry lets only the very text that
// verified skip the signature check. Once a token is cached, a text naming
// its id with a broken signature, or with other claims under its
// signature, is refused; another validly signed text of the same token is
// accepted (checked in full), and so is the first one after it; deleting
// the token refuses both.
func TestTokenTextChecked(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, backend string) {
		env := testenv.Start(t, backend, testenv.Options{})
		env.User(t, "text@example.com")
		other := env.User(t, "other@example.com")
		c := env.Login(t, "text@example.com")
		tok, err := c.UserAPITokens.Post(ctx, client.APITokenPost{Name: "text", Scope: []string{"all.User"}})
		if err != nil {
			t.Fatal(err)
		}
		status := func(token string) int {
			t.Helper()
			code, _, _ := raw(t, env, http.MethodGet, "/me", token, "", nil)
			return code
		}
		for range 2 { // the second answer comes from the cached entry
			if got := status(tok.Token); got != http.StatusOK {
				t.Fatalf("GET /me with the token: %d, want 200", got)
			}
		}
		parts := strings.Split(tok.Token, ".")
		if len(parts) != 3 {
			t.Fatalf("token %q is not a compact JWT", tok.Token)
		}
		sig := []byte(parts[2])
		sig[len(sig)/2] ^= 1 // still base64url
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if claims["jti"] != tok.ID {
			t.Fatalf("claims %v do not name the token %s", claims, tok.ID)
		}
		claims["sub"] = other
		forged, _ := json.Marshal(claims)
		for name, text := range map[string]string{
			"broken signature":      parts[0] + "." + parts[1] + "." + string(sig),
			"another user's claims": parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2],
			"no signature":          parts[0] + "." + parts[1] + ".",
			"the claims alone":      "x." + parts[1] + ".y",
		} {
			if got := status(text); got != http.StatusUnauthorized {
				t.Errorf("%s: GET /me answered %d, want 401", name, got)
			}
		}
		// the same token signed again (a second later): a text of its own
		again, err := env.Keys.Sign(secret.Claims{UserID: tok.OwnerID, TokenID: tok.ID, Scope: tok.Scope,
			IssuedAt: tok.CreationDate.Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		if again == tok.Token {
			t.Fatal("signing again made the same text")
		}
		for _, text := range []string{again, tok.Token, again, tok.Token} {
			if got := status(text); got != http.StatusOK {
				t.Fatalf("GET /me with a valid text of the token: %d, want 200", got)
			}
		}
		if err := c.UserAPIToken.Delete(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		for _, text := range []string{tok.Token, again} {
			if got := status(text); got != http.StatusUnauthorized {
				t.Errorf("GET /me with a deleted token: %d, want 401", got)
			}
		}
	})
}
