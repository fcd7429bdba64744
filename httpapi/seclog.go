package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/accountd/accountd"
)

// securityEventBody is one entry of GET /me/securityLog.
type securityEventBody struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	Time       string            `json:"time"`
	Address    string            `json:"address"`
	UserAgent  string            `json:"userAgent"`
	ObjectType string            `json:"objectType,omitempty"`
	ObjectID   string            `json:"objectId,omitempty"`
	Detail     map[string]string `json:"detail"`
}

type securityLogBody struct {
	Items      []securityEventBody `json:"items"`
	Count      int                 `json:"count"`
	TotalCount int                 `json:"totalCount"`
	PerPage    int                 `json:"perPage"`
	Page       int                 `json:"page"`
	Kinds      []string            `json:"kinds,omitempty"`
	Since      string              `json:"since,omitempty"`
	Until      string              `json:"until,omitempty"`
}

// timeParam reads an RFC 3339 timestamp query parameter ("" is zero).
func timeParam(qv map[string][]string, name string) (time.Time, error) {
	v := ""
	if vs := qv[name]; len(vs) > 0 {
		v = vs[0]
	}
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, accountd.Invalid(name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

func (s *Server) securityLog(w http.ResponseWriter, r *http.Request) error {
	qv := r.URL.Query()
	var (
		q   accountd.SecurityQuery
		err error
	)
	if q.Page, err = intParam(qv, "page", 0); err != nil {
		return err
	}
	if q.PerPage, err = intParam(qv, "perPage", accountd.DefaultPerPage); err != nil {
		return err
	}
	if q.Since, err = timeParam(qv, "since"); err != nil {
		return err
	}
	if q.Until, err = timeParam(qv, "until"); err != nil {
		return err
	}
	// kind may repeat, and each may list kinds separated by commas
	for _, v := range qv["kind"] {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				q.Kinds = append(q.Kinds, k)
			}
		}
	}
	if len(q.Kinds) > len(accountd.SecurityKinds) {
		return accountd.Invalid("kind", "lists more kinds than there are (%d)", len(accountd.SecurityKinds))
	}
	page, err := s.svc.SecurityLog(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	q = page.Query
	b := securityLogBody{Items: make([]securityEventBody, 0, len(page.Events)), Count: len(page.Events), TotalCount: page.Total,
		PerPage: q.PerPage, Page: q.Page, Kinds: q.Kinds}
	if !q.Since.IsZero() {
		b.Since = accountd.FormatTime(q.Since)
	}
	if !q.Until.IsZero() {
		b.Until = accountd.FormatTime(q.Until)
	}
	for _, e := range page.Events {
		d := e.Detail
		if d == nil {
			d = map[string]string{}
		}
		b.Items = append(b.Items, securityEventBody{ID: e.ID, Kind: e.Kind, Time: accountd.FormatTime(e.At),
			Address: e.Address, UserAgent: e.UserAgent, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Detail: d})
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}
