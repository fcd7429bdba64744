package client

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// Security log kinds (SecurityEvent.Kind), as the server names them.
const (
	SecLoginSucceeded     = accountd.SecLoginSucceeded
	SecLoginFailed        = accountd.SecLoginFailed
	SecLoginThrottled     = accountd.SecLoginThrottled
	SecTwoFactorEnabled   = accountd.SecTwoFactorEnabled
	SecTwoFactorDisabled  = accountd.SecTwoFactorDisabled
	SecRecoveryCodeUsed   = accountd.SecRecoveryCodeUsed
	SecRecoveryCodesNew   = accountd.SecRecoveryCodesNew
	SecPasswordChanged    = accountd.SecPasswordChanged
	SecEmailChanged       = accountd.SecEmailChanged
	SecGithubLinked       = accountd.SecGithubLinked
	SecGithubUnlinked     = accountd.SecGithubUnlinked
	SecTokenCreated       = accountd.SecTokenCreated
	SecTokenChanged       = accountd.SecTokenChanged
	SecTokenRevoked       = accountd.SecTokenRevoked
	SecSessionRevoked     = accountd.SecSessionRevoked
	SecInvitationAnswered = accountd.SecInvitationAnswered
	SecResourcesMoved     = accountd.SecResourcesMoved
	SecDeleteRefused      = accountd.SecDeleteRefused
)

// SecurityEvent is one entry of the signed-in user's security log.
type SecurityEvent struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Time       time.Time         `json:"time"`
	Address    string            `json:"address"`
	UserAgent  string            `json:"userAgent"`
	ObjectType string            `json:"objectType,omitempty"`
	ObjectID   string            `json:"objectId,omitempty"`
	Detail     map[string]string `json:"detail"`
}

// SecurityLog is one page of the security log, newest first.
type SecurityLog struct {
	Items      []SecurityEvent `json:"items"`
	Count      int             `json:"count"`
	TotalCount int             `json:"totalCount"`
	PerPage    int             `json:"perPage"`
	Page       int             `json:"page"`
	Kinds      []string        `json:"kinds,omitempty"`
	Since      *time.Time      `json:"since,omitempty"`
	Until      *time.Time      `json:"until,omitempty"`
}

// SecurityLogParams select a page of the security log; zero values take
// the server's defaults (every kind, all time, page 0 of 100).
type SecurityLogParams struct {
	Kinds         []string
	Since, Until  time.Time // Since inclusive, Until exclusive
	Page, PerPage int
}

func (p *SecurityLogParams) values() url.Values {
	q := url.Values{}
	if p == nil {
		return q
	}
	if len(p.Kinds) > 0 {
		q.Set("kind", strings.Join(p.Kinds, ","))
	}
	if !p.Since.IsZero() {
		q.Set("since", p.Since.UTC().Format(time.RFC3339Nano))
	}
	if !p.Until.IsZero() {
		q.Set("until", p.Until.UTC().Format(time.RFC3339Nano))
	}
	if p.Page > 0 {
		q.Set("page", strconv.Itoa(p.Page))
	}
	if p.PerPage > 0 {
		q.Set("perPage", strconv.Itoa(p.PerPage))
	}
	return q
}

// SecurityLog returns a page of what happened to the signed-in user's
// account (GET /me/securityLog, an accountd extension).
func (s *MeService) SecurityLog(ctx context.Context, p *SecurityLogParams) (*SecurityLog, error) {
	var out SecurityLog
	return &out, s.c.do(ctx, "GET", "/me/securityLog", p.values(), nil, &out)
}
