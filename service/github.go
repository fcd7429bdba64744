package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/accountd/accountd"
	"golang.org/x/oauth2"
)

// GithubConfig is the OAuth app accountd links GitHub accounts through.
type GithubConfig struct {
	ClientID     string // empty: linking and signing in with GitHub are off
	ClientSecret string
	// AuthURL, TokenURL and APIURL default to GitHub's; tests point them
	// at a fake provider.
	AuthURL  string
	TokenURL string
	APIURL   string
	// HTTPClient calls the token and API URLs (default: 10s timeout).
	HTTPClient *http.Client
}

func (c *GithubConfig) defaults() {
	if c.AuthURL == "" {
		c.AuthURL = "https://github.com/login/oauth/authorize"
	}
	if c.TokenURL == "" {
		c.TokenURL = "https://github.com/login/oauth/access_token"
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.github.com"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
}

// GithubCallbackPath is where the provider sends the browser back, under
// PublicURL; it must be the OAuth app's callback URL.
const GithubCallbackPath = "/auth/github/callback"

// githubStateTTL bounds how long a connect flow may take.
const githubStateTTL = 10 * time.Minute

var errGithubOff = accountd.Errorf(accountd.CodeInvalid, "GitHub is not configured on this server")

func (s *Service) oauth() (*oauth2.Config, error) {
	g := s.cfg.Security.Github
	if g.ClientID == "" {
		return nil, errGithubOff
	}
	return &oauth2.Config{
		ClientID: g.ClientID, ClientSecret: g.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: g.AuthURL, TokenURL: g.TokenURL},
		RedirectURL: strings.TrimRight(s.cfg.Security.PublicURL, "/") + GithubCallbackPath,
		// Reading the profile is all accountd needs.
		Scopes: []string{"read:user"},
	}, nil
}

type githubState struct {
	UserID  string `json:"u"`
	Expires int64  `json:"e"`
}

const githubStateContext = "accountd github state"

// GithubConnectURL starts linking a GitHub account: the user's browser
// opens the URL, and the provider sends it back to the callback with a
// code. The state parameter is sealed with the server key and names the
// user and an expiry, so the callback needs no session of its own and
// cannot be replayed for another user or after ten minutes.
func (s *Service) GithubConnectURL(ctx context.Context, p accountd.Principal) (string, error) {
	conf, err := s.oauth()
	if err != nil {
		return "", err
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return "", err
	}
	raw, _ := json.Marshal(githubState{UserID: u.ID, Expires: s.now().Add(githubStateTTL).Unix()})
	state, err := s.keys.Seal(raw, githubStateContext, s.random)
	if err != nil {
		return "", accountd.Internal(err)
	}
	return conf.AuthCodeURL(state), nil
}

// GithubPending is a GitHub account read at the callback and not linked
// yet: the person at the browser confirms first (GithubConfirm).
type GithubPending struct {
	Email string // the accountd account the link would join
	Login string // the GitHub account
	Token string // sealed, expiring; carries the link to GithubConfirm
}

// githubPending is what the confirmation token seals.
type githubPending struct {
	UserID   string `json:"u"`
	GithubID string `json:"g"`
	Login    string `json:"l"`
	Expires  int64  `json:"e"`
}

const githubPendingContext = "accountd github link confirmation"

// GithubCallback checks the state, trades the code for a token and reads the
// GitHub account, but does not link it: the state only proves that some
// accountd user started a link, not that this browser's person is that
// user. Someone could start a link for their own account and lure another
// person through GitHub's consent page, tying that person's GitHub account
// to the attacker's accountd account. So the callback names both accounts
// and asks for a confirmation, which GithubConfirm carries out.
func (s *Service) GithubCallback(ctx context.Context, code, state string) (*GithubPending, error) {
	conf, err := s.oauth()
	if err != nil {
		return nil, err
	}
	raw, err := s.keys.Open(state, githubStateContext)
	var st githubState
	if err != nil || json.Unmarshal(raw, &st) != nil || !accountd.ValidID(st.UserID) {
		return nil, accountd.Invalid("state", "is not one this server issued")
	}
	if s.now().Unix() > st.Expires {
		return nil, accountd.Errorf(accountd.CodeGone, "this GitHub link request has expired; start again")
	}
	if code == "" {
		return nil, accountd.Invalid("code", "is required")
	}
	u, err := s.store.User(ctx, st.UserID)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.cfg.Security.Github.HTTPClient)
	tok, err := conf.Exchange(ctx, code)
	if err != nil {
		s.log.WarnContext(ctx, "GitHub code exchange failed", "err", err)
		return nil, accountd.Errorf(accountd.CodeUnauthorized, "GitHub did not accept the authorization code")
	}
	gu, err := s.githubUser(ctx, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	raw, _ = json.Marshal(githubPending{UserID: u.ID, GithubID: gu.id, Login: gu.login, Expires: s.now().Add(githubStateTTL).Unix()})
	sealed, err := s.keys.Seal(raw, githubPendingContext, s.random)
	if err != nil {
		return nil, accountd.Internal(err)
	}
	return &GithubPending{Email: u.Email, Login: gu.login, Token: sealed}, nil
}

// GithubConfirm links the GitHub account a confirmation token names.
func (s *Service) GithubConfirm(ctx context.Context, token string) (*accountd.GithubLink, error) {
	raw, err := s.keys.Open(token, githubPendingContext)
	var pd githubPending
	if err != nil || json.Unmarshal(raw, &pd) != nil || !accountd.ValidID(pd.UserID) {
		return nil, accountd.Invalid("token", "is not one this server issued")
	}
	if s.now().Unix() > pd.Expires {
		return nil, accountd.Errorf(accountd.CodeGone, "this GitHub link request has expired; start again")
	}
	l := &accountd.GithubLink{UserID: pd.UserID, GithubID: pd.GithubID, Login: pd.Login, CreatedAt: accountd.Millis(s.now())}
	var ann announcements
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		if err := tx.LinkGithub(ctx, l); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: l.UserID, Kind: accountd.SecGithubLinked,
			ObjectType: "githubAccount", ObjectID: l.GithubID, Detail: map[string]string{"login": l.Login}})
	})
	if err != nil {
		return nil, err
	}
	s.forgetUser(pd.UserID)
	ann.run()
	return l, nil
}

type githubUser struct{ id, login string }

// githubUser reads the account an access token belongs to.
func (s *Service) githubUser(ctx context.Context, accessToken string) (githubUser, error) {
	g := s.cfg.Security.Github
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(g.APIURL, "/")+"/user", nil)
	if err != nil {
		return githubUser{}, accountd.Internal(err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := g.HTTPClient.Do(req)
	if err != nil {
		return githubUser{}, accountd.Internal(fmt.Errorf("calling GitHub: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return githubUser{}, accountd.Internal(fmt.Errorf("reading GitHub's answer: %w", err))
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return githubUser{}, accountd.Errorf(accountd.CodeUnauthorized, "GitHub did not accept the access token")
	case resp.StatusCode != http.StatusOK:
		return githubUser{}, accountd.Internal(fmt.Errorf("GitHub answered %d to GET /user", resp.StatusCode))
	}
	var u struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.ID <= 0 || u.Login == "" {
		return githubUser{}, accountd.Internal(fmt.Errorf("GitHub's GET /user answer lacks id or login"))
	}
	return githubUser{id: strconv.FormatInt(u.ID, 10), login: u.Login}, nil
}

// DisconnectGithub removes the user's GitHub link.
func (s *Service) DisconnectGithub(ctx context.Context, p accountd.Principal) (*accountd.User, error) {
	u, err := s.Me(ctx, p)
	if err != nil {
		return nil, err
	}
	var ann announcements
	err = s.store.InTx(ctx, func(tx accountd.Store) error {
		ann = nil
		l, err := tx.GithubLink(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := tx.UnlinkGithub(ctx, u.ID); err != nil {
			return err
		}
		return ann.record(ctx, s, tx, SecurityEntry{UserID: u.ID, Kind: accountd.SecGithubUnlinked,
			ObjectType: "githubAccount", ObjectID: l.GithubID, Detail: map[string]string{"login": l.Login}})
	})
	if errors.Is(err, accountd.ErrNotFound) {
		return nil, accountd.Errorf(accountd.CodeInvalid, "no GitHub account is linked to this user")
	}
	if err != nil {
		return nil, err
	}
	ann.run()
	return u, nil
}

// GithubCredentials is what POST /auth/user/github carries (githubLogin).
type GithubCredentials struct {
	AccessToken     string
	TwoFactorCode   string
	RequestedScopes []string
	TokenTTL        *int64
}

var errGithubNotLinked = accountd.Errorf(accountd.CodeUnauthorized, "no account is linked to this GitHub account")

// LoginGithub signs in the user linked to the GitHub account the access
// token belongs to. Two-factor auth applies as to password logins.
func (s *Service) LoginGithub(ctx context.Context, c GithubCredentials) (AuthedUser, error) {
	if s.cfg.Security.Github.ClientID == "" {
		return AuthedUser{}, errGithubOff
	}
	scope, err := s.checkScopes("requestedScopes", c.RequestedScopes)
	if err != nil {
		return AuthedUser{}, err
	}
	ttl, err := s.sessionTTL("tokenTTL", c.TokenTTL)
	if err != nil {
		return AuthedUser{}, err
	}
	now := s.now()
	addr := accountd.ClientAddrFrom(ctx)
	// Throttled per address like password logins: a token that GitHub
	// refuses, or that links to no one, counts as a failed attempt.
	att, err := s.reserveAttempt(ctx, "github:"+addr, addr, now, false)
	if err != nil {
		return AuthedUser{}, err
	}
	defer att.release()
	gu, err := s.githubUser(ctx, c.AccessToken)
	if accountd.ErrorCode(err) == accountd.CodeUnauthorized {
		att.failed()
	}
	if err != nil {
		return AuthedUser{}, err
	}
	l, err := s.store.GithubLinkByGithubID(ctx, gu.id)
	if errors.Is(err, accountd.ErrNotFound) {
		att.failed()
		return AuthedUser{}, errGithubNotLinked
	}
	if err != nil {
		return AuthedUser{}, err
	}
	att.release()
	u, err := s.store.User(ctx, l.UserID)
	if errors.Is(err, accountd.ErrNotFound) {
		return AuthedUser{}, errGithubNotLinked
	}
	if err != nil {
		return AuthedUser{}, err
	}
	// The second factor is guessed against the user's account.
	uatt, err := s.reserveAttempt(ctx, accountd.EmailKey(u.Email), addr, now, false)
	if accountd.ErrorCode(err) == accountd.CodeTooManyRequests {
		s.loginThrottled(ctx, u.Email, now)
	}
	if err != nil {
		return AuthedUser{}, err
	}
	defer uatt.release()
	if err := s.secondFactor(ctx, u, "twoFactorCode", c.TwoFactorCode, accountd.CodeUnauthorized, uatt, now); err != nil {
		if uatt.reason != "" {
			s.loginFailed(ctx, u, "github", uatt.reason)
		}
		return AuthedUser{}, err
	}
	uatt.succeeded()
	if l.Login != gu.login {
		// GitHub logins can be renamed; keep what GET /me shows current.
		l.Login = gu.login
		if err := s.store.LinkGithub(ctx, l); err != nil {
			s.log.WarnContext(ctx, "updating GitHub login", "user", u.ID, "err", err)
		}
	}
	return s.loginSession(ctx, u, scope, ttl, accountd.ViaGithub)
}
