package httpapi

import (
	"net/http"

	"github.com/accountd/accountd/service"
)

// credentialsBody is userCredentials on the wire.
type credentialsBody struct {
	Email           string   `json:"email"`
	Password        string   `json:"password"`
	TwoFactorCode   string   `json:"twoFactorCode"`
	RequestedScopes []string `json:"requestedScopes"`
	TokenTTL        *int64   `json:"tokenTTL"`
}

func (c credentialsBody) toService() service.Credentials {
	return service.Credentials{
		Email: c.Email, Password: c.Password, TwoFactorCode: c.TwoFactorCode,
		RequestedScopes: c.RequestedScopes, TokenTTL: c.TokenTTL,
	}
}

// authedUserBody is authedUser on the wire.
type authedUserBody struct {
	UserID             string `json:"userId"`
	Token              string `json:"token"`
	NeedsToVerifyEmail bool   `json:"needsToVerifyEmail"`
}

func authedUserJSON(a service.AuthedUser) authedUserBody {
	return authedUserBody{UserID: a.UserID, Token: a.Token, NeedsToVerifyEmail: a.NeedsToVerifyEmail}
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var body credentialsBody
	if err := s.decode(r, "userCredentials", &body); err != nil {
		return err
	}
	a, err := s.svc.Login(r.Context(), body.toService())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, authedUserJSON(a))
	return nil
}
