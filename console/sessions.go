package console

import "net/http"

// revokeSession signs one session out from the security page's list. The
// visitor's own is allowed: it signs them out.
func (c *Console) revokeSession(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	if err := c.svc.RevokeSession(r.Context(), s.p, r.PathValue("id")); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/security", "session-out")
	return nil
}

// revokeOtherSessions signs out every session but the visitor's.
func (c *Console) revokeOtherSessions(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	if _, err := c.svc.RevokeOtherSessions(r.Context(), s.p); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/security", "sessions-out")
	return nil
}
