package httpapi

import (
	"net/http"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// sessionBody is one login session as GET /me/sessions lists it.
type sessionBody struct {
	ID                string   `json:"id"`
	CreationDate      string   `json:"creationDate"`
	ExpirationDate    string   `json:"expirationDate,omitempty"`
	LastUsed          string   `json:"lastUsed,omitempty"`
	ObtainedVia       string   `json:"obtainedVia"`
	CreatedAddress    string   `json:"createdAddress"`
	CreatedUserAgent  string   `json:"createdUserAgent"`
	LastUsedAddress   string   `json:"lastUsedAddress,omitempty"`
	LastUsedUserAgent string   `json:"lastUsedUserAgent,omitempty"`
	Scope             []string `json:"scope"`
	Current           bool     `json:"current"`
}

type sessionsBody struct {
	Items []sessionBody `json:"items"`
	Count int           `json:"count"`
}

func sessionJSON(s service.Session) sessionBody {
	b := sessionBody{
		ID: s.ID, CreationDate: accountd.FormatTime(s.CreatedAt), ObtainedVia: s.ObtainedVia,
		CreatedAddress: s.CreatedAddress, CreatedUserAgent: s.CreatedUserAgent,
		Scope: s.Scope, Current: s.Current,
	}
	if b.ObtainedVia == "" {
		b.ObtainedVia = "unknown" // issued before sessions recorded it
	}
	if b.Scope == nil {
		b.Scope = []string{}
	}
	if !s.ExpiresAt.IsZero() {
		b.ExpirationDate = accountd.FormatTime(s.ExpiresAt)
	}
	if !s.LastUsedAt.IsZero() {
		b.LastUsed = accountd.FormatTime(s.LastUsedAt)
		b.LastUsedAddress, b.LastUsedUserAgent = s.LastUsedAddress, s.LastUsedUserAgent
	}
	return b
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request) error {
	sessions, err := s.svc.Sessions(r.Context(), principal(r))
	if err != nil {
		return err
	}
	b := sessionsBody{Items: make([]sessionBody, 0, len(sessions)), Count: len(sessions)}
	for _, sess := range sessions {
		b.Items = append(b.Items, sessionJSON(sess))
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "sessionId")
	if err != nil {
		return err
	}
	if err := s.svc.RevokeSession(r.Context(), principal(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, success)
	return nil
}

type sessionsRevokedBody struct {
	Revoked int `json:"revoked"`
}

func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	n, err := s.svc.RevokeOtherSessions(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sessionsRevokedBody{Revoked: n})
	return nil
}
