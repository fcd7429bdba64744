package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/accountd/accountd"
)

// secRow is one security log entry as the page shows it.
type secRow struct {
	E      *accountd.SecurityEvent
	What   string // the kind in words
	Detail string // the detail as "key: value" pairs
}

type secKind struct {
	Value, Label string
	Selected     bool
}

type securityLogPage struct {
	Rows       []secRow
	Total      int
	Kinds      []secKind
	Kind       string // the kind shown ("" every kind)
	Prev, Next string // links to the neighbouring pages ("" none)
}

const securityLogPerPage = 50

// secKindWords names each kind for people.
var secKindWords = map[string]string{
	accountd.SecLoginSucceeded:     "Signed in",
	accountd.SecLoginFailed:        "Sign-in failed",
	accountd.SecLoginThrottled:     "Sign-in throttled",
	accountd.SecTwoFactorEnabled:   "Two-factor authentication on",
	accountd.SecTwoFactorDisabled:  "Two-factor authentication off",
	accountd.SecRecoveryCodeUsed:   "Recovery code used",
	accountd.SecRecoveryCodesNew:   "Recovery codes made anew",
	accountd.SecPasswordChanged:    "Password changed",
	accountd.SecEmailChanged:       "Email changed",
	accountd.SecGithubLinked:       "GitHub linked",
	accountd.SecGithubUnlinked:     "GitHub unlinked",
	accountd.SecTokenCreated:       "API token created",
	accountd.SecTokenChanged:       "API token changed",
	accountd.SecTokenRevoked:       "API token deleted",
	accountd.SecSessionRevoked:     "Session revoked",
	accountd.SecInvitationAnswered: "Invitation answered",
	accountd.SecResourcesMoved:     "Resources transferred",
	accountd.SecDeleteRefused:      "Account deletion refused",
}

func (c *Console) securityLog(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	qv := r.URL.Query()
	page, _ := strconv.Atoi(qv.Get("page"))
	page = max(page, 0)
	kind := qv.Get("kind")
	if !accountd.KnownSecurityKind(kind) {
		kind = ""
	}
	q := accountd.SecurityQuery{Page: page, PerPage: securityLogPerPage}
	if kind != "" {
		q.Kinds = []string{kind}
	}
	sp, err := c.svc.SecurityLog(r.Context(), s.p, q)
	if err != nil {
		return err
	}
	pg := securityLogPage{Total: sp.Total, Kind: kind}
	link := func(p int) string {
		u := url.Values{"page": {strconv.Itoa(p)}}
		if kind != "" {
			u.Set("kind", kind)
		}
		return Prefix + "/security-log?" + u.Encode()
	}
	if page > 0 {
		pg.Prev = link(page - 1)
	}
	if (page+1)*securityLogPerPage < sp.Total {
		pg.Next = link(page + 1)
	}
	for _, k := range accountd.SecurityKinds {
		pg.Kinds = append(pg.Kinds, secKind{Value: k, Label: secKindWords[k], Selected: k == kind})
	}
	for _, e := range sp.Events {
		keys := make([]string, 0, len(e.Detail))
		for k := range e.Detail {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + e.Detail[k]
		}
		pg.Rows = append(pg.Rows, secRow{E: e, What: secKindWords[e.Kind], Detail: strings.Join(parts, ", ")})
	}
	v.Title, v.Nav, v.Page = "Security log", "securitylog", pg
	c.render(w, r, http.StatusOK, "securitylog", v)
	return nil
}
