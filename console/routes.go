package console

import "net/http"

// routes is the console's table of contents: each page and form, and the
// API action whose scope and email rule it follows.
func (c *Console) routes() {
	c.mux.HandleFunc("GET "+Prefix+"/login", c.showLogin)
	c.mux.HandleFunc("POST "+Prefix+"/login", c.login)
	c.handle("POST "+Prefix+"/logout", "me.get", c.logout)

	c.handle("GET "+Prefix, "me.get", c.profile)
	c.mux.Handle("GET "+Prefix+"/{$}", http.RedirectHandler(Prefix, http.StatusMovedPermanently))
	c.handle("POST "+Prefix+"/profile", "me.patch", c.saveProfile)
	c.handle("POST "+Prefix+"/email", "me.patch", c.changeEmail)
	c.handle("POST "+Prefix+"/verify-email", "me.verifyEmail", c.resendVerification)

	c.handle("GET "+Prefix+"/security", "me.get", c.security)
	c.handle("POST "+Prefix+"/security/password", "me.changePassword", c.changePassword)
	c.handle("POST "+Prefix+"/security/2fa/generate", "me.generateTwoFactorAuth", c.generateTwoFactor)
	c.handle("POST "+Prefix+"/security/2fa/enable", "me.enableTwoFactorAuth", c.enableTwoFactor)
	c.handle("POST "+Prefix+"/security/2fa/disable", "me.disableTwoFactorAuth", c.disableTwoFactor)
	c.handle("POST "+Prefix+"/security/recovery-codes", "recoveryCodes.regenerate", c.regenerateCodes)
	c.handle("GET "+Prefix+"/security/github", "github.connect", c.connectGithub)
	c.handle("POST "+Prefix+"/security/github/disconnect", "me.disconnectGithub", c.disconnectGithub)
	c.handle("POST "+Prefix+"/security/sessions/{id}/revoke", "session.revoke", c.revokeSession)
	c.handle("POST "+Prefix+"/security/sessions/revoke-others", "sessions.revokeOthers", c.revokeOtherSessions)

	c.handle("GET "+Prefix+"/tokens", "userApiTokens.get", c.tokens)
	c.handle("POST "+Prefix+"/tokens", "userApiTokens.post", c.createToken)
	c.handle("POST "+Prefix+"/tokens/{id}/status", "userApiToken.patch", c.setTokenStatus)
	c.handle("POST "+Prefix+"/tokens/{id}/delete", "userApiToken.delete", c.deleteToken)

	c.handle("GET "+Prefix+"/invitations", "me.invites", c.invitations)
	c.handle("POST "+Prefix+"/invitations/{id}", "me.respondToInvite", c.answerInvite)

	c.handle("GET "+Prefix+"/organizations", "orgs.get", c.organizations)
	c.handle("POST "+Prefix+"/organizations", "orgs.post", c.createOrg)
	c.handle("GET "+Prefix+"/organizations/{id}", "org.get", c.organization)
	c.handle("POST "+Prefix+"/organizations/{id}/invites", "org.inviteMember", c.inviteMember)
	c.handle("POST "+Prefix+"/organizations/{id}/invites/{invite}/revoke", "org.revokeInvite", c.revokeInvite)

	c.handle("GET "+Prefix+"/usage", "me.payloadCountsBreakdown", c.usage)

	c.handle("GET "+Prefix+"/security-log", "securityLog.get", c.securityLog)

	c.handle("GET "+Prefix+"/delete", "me.delete", c.deletePage)
	c.handle("POST "+Prefix+"/delete", "me.delete", c.deleteAccount)

	c.mux.Handle("GET "+Prefix+"/static/", c.cacheStatic(c.static))
	c.mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		c.message(w, r, http.StatusNotFound, &view{Title: "Page not found"}, "There is no such page in the account console.")
	})
}

// cacheStatic lets browsers keep the stylesheet and script for an hour.
func (c *Console) cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}
