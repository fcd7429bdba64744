package console

import (
	"net/http"
	"net/url"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

type invitesPage struct {
	Invites []*accountd.Invite
}

func (c *Console) invitations(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	return c.renderInvitations(w, r, s, v, http.StatusOK)
}

func (c *Console) renderInvitations(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) error {
	inv, err := c.svc.MyInvites(r.Context(), s.p)
	if err != nil {
		return err
	}
	v.Title, v.Nav, v.Page = "Invitations", "invitations", invitesPage{Invites: inv}
	c.render(w, r, status, "invitations", v)
	return nil
}

func (c *Console) answerInvite(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	action := r.PostForm.Get("action")
	if _, _, err := c.svc.RespondToInvite(r.Context(), s.p, r.PathValue("id"), action); err != nil {
		return c.formFailed(w, r, s, v, err, "invites", nil, c.renderInvitations)
	}
	if action == "accept" {
		redirect(w, r, Prefix+"/organizations", "invite-accept")
		return nil
	}
	redirect(w, r, Prefix+"/invitations", "invite-"+action)
	return nil
}

type orgRow struct {
	Org     *accountd.Org
	Role    accountd.Role
	Members int
}

type orgsPage struct {
	Orgs     []orgRow
	MFAModes []string
}

var mfaModes = []string{accountd.MFANotRequired, accountd.MFAAdminRequired, accountd.MFARequired}

func (c *Console) organizations(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	return c.renderOrganizations(w, r, s, v, http.StatusOK)
}

func (c *Console) renderOrganizations(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) error {
	op, err := c.svc.Orgs(r.Context(), s.p, accountd.ListQuery{PerPage: accountd.MaxPerPage})
	if err != nil {
		return err
	}
	pg := orgsPage{MFAModes: mfaModes}
	for _, o := range op.Orgs {
		pg.Orgs = append(pg.Orgs, orgRow{Org: o.Org, Role: roleOf(o, s.p.UserID), Members: len(o.Members)})
	}
	if _, ok := v.Forms["create"]; !ok {
		v.setForm("create", form{Values: url.Values{"mfaMode": {accountd.MFANotRequired}}})
	}
	v.Title, v.Nav, v.Page = "Organizations", "organizations", pg
	c.render(w, r, status, "organizations", v)
	return nil
}

func roleOf(o service.OrgView, userID string) accountd.Role {
	for _, m := range o.Members {
		if m.UserID == userID {
			return m.Role
		}
	}
	return ""
}

func (c *Console) createOrg(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	o, err := c.svc.CreateOrg(r.Context(), s.p, service.NewOrg{Name: f.Get("name"), Description: f.Get("description"), MFAMode: f.Get("mfaMode")})
	if err != nil {
		return c.formFailed(w, r, s, v, err, "create", nil, c.renderOrganizations)
	}
	redirect(w, r, Prefix+"/organizations/"+o.Org.ID, "org")
	return nil
}

type orgPage struct {
	Org     service.OrgView
	Role    accountd.Role
	Admin   bool
	Invites []*accountd.Invite
	Roles   []accountd.Role
}

func (c *Console) organization(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	return c.renderOrganization(w, r, s, v, http.StatusOK)
}

func (c *Console) renderOrganization(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) error {
	o, err := c.svc.Org(r.Context(), s.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	pg := orgPage{Org: o, Role: roleOf(o, s.p.UserID), Roles: accountd.Roles}
	if pg.Role == accountd.RoleAdmin {
		pg.Admin = true
		if pg.Invites, err = c.svc.PendingInvites(r.Context(), s.p, o.Org.ID); err != nil {
			return err
		}
	}
	if _, ok := v.Forms["invite"]; !ok {
		v.setForm("invite", form{Values: url.Values{"role": {string(accountd.RoleView)}}})
	}
	v.Title, v.Nav, v.Page = o.Org.Name, "organizations", pg
	c.render(w, r, status, "organization", v)
	return nil
}

func (c *Console) inviteMember(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	if _, err := c.svc.InviteMember(r.Context(), s.p, r.PathValue("id"), service.NewInvite{Email: f.Get("email"), Role: accountd.Role(f.Get("role"))}); err != nil {
		return c.formFailed(w, r, s, v, err, "invite", nil, c.renderOrganization)
	}
	redirect(w, r, Prefix+"/organizations/"+r.PathValue("id"), "invited")
	return nil
}

func (c *Console) revokeInvite(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	if _, err := c.svc.RevokeInvite(r.Context(), s.p, r.PathValue("id"), r.PathValue("invite")); err != nil {
		return err
	}
	redirect(w, r, Prefix+"/organizations/"+r.PathValue("id"), "invite-revoked")
	return nil
}

func (c *Console) deletePage(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	return c.renderDelete(w, r, s, v, http.StatusOK)
}

func (c *Console) renderDelete(w http.ResponseWriter, r *http.Request, s *session, v *view, status int) error {
	v.Title, v.Nav, v.Page = "Delete your account", "delete", securityPage{TwoFactor: s.twoFactor}
	c.render(w, r, status, "delete", v)
	return nil
}

func (c *Console) deleteAccount(w http.ResponseWriter, r *http.Request, s *session, v *view) error {
	f := r.PostForm
	err := c.svc.DeleteMe(r.Context(), s.p, service.Credentials{Email: s.user.Email, Password: f.Get("password"), TwoFactorCode: f.Get("code")})
	if err != nil {
		return c.formFailed(w, r, s, v, err, "delete", map[string]string{"twoFactorCode": "code"}, c.renderDelete)
	}
	c.setCookie(w, sessionCookie, "", -1)
	redirect(w, r, Prefix+"/login", "deleted")
	return nil
}
