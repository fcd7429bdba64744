package httpapi

import (
	"net/http"

	"github.com/accountd/accountd"
	"github.com/accountd/accountd/service"
)

// memberBody is one entry of an organization's members.
type memberBody struct {
	UserID           string             `json:"userId"`
	Email            string             `json:"email"`
	FirstName        string             `json:"firstName,omitempty"` // the schema wants at least one character
	LastName         string             `json:"lastName"`
	AvatarURL        string             `json:"avatarUrl"`
	Role             string             `json:"role"`
	ApplicationRoles []resourceRoleBody `json:"applicationRoles"`
	DashboardRoles   []resourceRoleBody `json:"dashboardRoles"`
}

// resourceRoleBody is an entry of applicationRoles or dashboardRoles.
type resourceRoleBody struct {
	ResourceID string        `json:"resourceId"`
	Role       accountd.Role `json:"role"`
}

func resourceRolesJSON(roles []accountd.ResourceRole) (apps, dashes []resourceRoleBody) {
	a, d := service.SplitRoles(roles)
	return roleBodies(a), roleBodies(d)
}

func roleBodies(roles []accountd.ResourceRole) []resourceRoleBody {
	out := make([]resourceRoleBody, len(roles))
	for i, r := range roles {
		out[i] = resourceRoleBody{ResourceID: r.ResourceID, Role: r.Role}
	}
	return out
}

// resourceRoles reads applicationRoles or dashboardRoles.
func resourceRoles(in []resourceRoleBody) []accountd.ResourceRole {
	out := make([]accountd.ResourceRole, len(in))
	for i, r := range in {
		out[i] = accountd.ResourceRole{ResourceID: r.ResourceID, Role: r.Role}
	}
	return out
}

// orgBody is the reference org schema, as far as accountd keeps it.
type orgBody struct {
	ID           string         `json:"id"`
	OrgID        string         `json:"orgId"`
	CreationDate string         `json:"creationDate"`
	LastUpdated  string         `json:"lastUpdated"`
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	IconColor    string         `json:"iconColor,omitempty"`
	MFAMode      string         `json:"mfaMode"`
	PlanID       string         `json:"planId,omitempty"`
	BillingEmail string         `json:"billingEmail,omitempty"`
	Members      []memberBody   `json:"members"`
	Summary      map[string]int `json:"summary"`
	// Limits lists the limits set for every organization.
	Limits map[string]int `json:"limits"`
	// WhitelistedEmailDomains is always empty: accountd does not restrict
	// the addresses of members.
	WhitelistedEmailDomains []string `json:"whitelistedEmailDomains"`
}

// orgSummaryQuery is the summaryInclude and summaryExclude of an
// organization action.
type orgSummaryQuery struct{ include, exclude []string }

func readOrgSummaryQuery(r *http.Request) (orgSummaryQuery, error) {
	var (
		q   orgSummaryQuery
		err error
	)
	if q.include, err = service.OrgSummaryFields("summaryInclude", r.URL.Query().Get("summaryInclude")); err != nil {
		return q, err
	}
	q.exclude, err = service.OrgSummaryFields("summaryExclude", r.URL.Query().Get("summaryExclude"))
	return q, err
}

func orgJSON(v service.OrgView, q orgSummaryQuery) orgBody {
	o := v.Org
	b := orgBody{ID: o.ID, OrgID: o.ID, CreationDate: accountd.FormatTime(o.CreatedAt), LastUpdated: accountd.FormatTime(o.UpdatedAt),
		Name: o.Name, Description: o.Description, IconColor: o.IconColor, MFAMode: o.MFAMode, PlanID: o.PlanID, BillingEmail: o.BillingEmail,
		Members: make([]memberBody, 0, len(v.Members)), Limits: v.Limits.Map(), WhitelistedEmailDomains: []string{},
		Summary: service.OrgSummaryCounts(v.Summary, q.include, q.exclude)}
	for _, m := range v.Members {
		mb := memberBody{UserID: m.UserID, Email: m.Email, FirstName: m.FirstName, LastName: m.LastName,
			AvatarURL: service.AvatarURL(m.Email, ""), Role: string(m.Role)}
		mb.ApplicationRoles, mb.DashboardRoles = resourceRolesJSON(m.ResourceRoles)
		b.Members = append(b.Members, mb)
	}
	return b
}

// listBody is the reference's collection envelope.
type listBody[T any] struct {
	Items         []T    `json:"items"`
	Count         int    `json:"count"`
	TotalCount    int    `json:"totalCount"`
	PerPage       int    `json:"perPage"`
	Page          int    `json:"page"`
	SortField     string `json:"sortField"`
	SortDirection string `json:"sortDirection"`
	FilterField   string `json:"filterField,omitempty"`
	Filter        string `json:"filter,omitempty"`
}

func newList[T any](items []T, total int, q accountd.ListQuery) listBody[T] {
	if items == nil {
		items = []T{}
	}
	return listBody[T]{Items: items, Count: len(items), TotalCount: total, PerPage: q.PerPage, Page: q.Page,
		SortField: q.SortField, SortDirection: q.SortDirection, FilterField: q.FilterField, Filter: q.Filter}
}

// listQuery reads the sort, filter and paging parameters every list takes.
func listQuery(r *http.Request) (accountd.ListQuery, error) {
	qv := r.URL.Query()
	q := accountd.ListQuery{SortField: qv.Get("sortField"), SortDirection: qv.Get("sortDirection"),
		FilterField: qv.Get("filterField"), Filter: qv.Get("filter")}
	err := refuseNULParams(qv)
	if err != nil {
		return q, err
	}
	if q.Page, err = intParam(qv, "page", 0); err != nil {
		return q, err
	}
	q.PerPage, err = intParam(qv, "perPage", accountd.DefaultPerPage)
	return q, err
}

type orgPostBody struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	IconColor    string `json:"iconColor"`
	MFAMode      string `json:"mfaMode"`
	PlanID       string `json:"planId"`
	BillingEmail string `json:"billingEmail"`
	CardToken    string `json:"cardToken"`
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request) error {
	sq, err := readOrgSummaryQuery(r)
	if err != nil {
		return err
	}
	var b orgPostBody
	if err := s.decode(r, "orgPost", &b); err != nil {
		return err
	}
	v, err := s.svc.CreateOrg(r.Context(), principal(r), service.NewOrg{Name: b.Name, Description: b.Description, IconColor: b.IconColor, MFAMode: b.MFAMode,
		PlanID: b.PlanID, BillingEmail: b.BillingEmail, CardToken: b.CardToken})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, orgJSON(v, sq))
	return nil
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request) error {
	sq, err := readOrgSummaryQuery(r)
	if err != nil {
		return err
	}
	q, err := listQuery(r)
	if err != nil {
		return err
	}
	page, err := s.svc.Orgs(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	items := make([]orgBody, 0, len(page.Orgs))
	for _, v := range page.Orgs {
		items = append(items, orgJSON(v, sq))
	}
	writeJSON(w, http.StatusOK, newList(items, page.Total, page.Query))
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request) error {
	sq, err := readOrgSummaryQuery(r)
	if err != nil {
		return err
	}
	return getOne(w, r, "orgId", s.svc.Org, func(v service.OrgView) orgBody { return orgJSON(v, sq) })
}

func (s *Server) deleteOrg(w http.ResponseWriter, r *http.Request) error {
	return deleteOne(w, r, "orgId", s.svc.DeleteOrg)
}

type memberPatchBody struct {
	UserID           string              `json:"userId"`
	Role             *accountd.Role      `json:"role"`
	ApplicationRoles *[]resourceRoleBody `json:"applicationRoles"`
	DashboardRoles   *[]resourceRoleBody `json:"dashboardRoles"`
}

func (s *Server) modifyMember(w http.ResponseWriter, r *http.Request) error {
	sq, err := readOrgSummaryQuery(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "orgId")
	if err != nil {
		return err
	}
	var b memberPatchBody
	if err := s.decode(r, "orgMemberPatch", &b); err != nil {
		return err
	}
	c := service.MemberChange{Role: b.Role}
	if b.ApplicationRoles != nil {
		roles := resourceRoles(*b.ApplicationRoles)
		c.ApplicationRoles = &roles
	}
	if b.DashboardRoles != nil {
		roles := resourceRoles(*b.DashboardRoles)
		c.DashboardRoles = &roles
	}
	v, err := s.svc.ModifyMember(r.Context(), principal(r), id, b.UserID, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgJSON(v, sq))
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	sq, err := readOrgSummaryQuery(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "orgId")
	if err != nil {
		return err
	}
	v, err := s.svc.RemoveMember(r.Context(), principal(r), id, r.URL.Query().Get("userId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgJSON(v, sq))
	return nil
}

// orgInviteBody is an entry of the reference orgInvites list.
type orgInviteBody struct {
	ID               string             `json:"id"`
	Email            string             `json:"email"`
	Role             string             `json:"role"`
	ApplicationRoles []resourceRoleBody `json:"applicationRoles"`
	DashboardRoles   []resourceRoleBody `json:"dashboardRoles"`
	DisallowTransfer bool               `json:"disallowTransfer"`
	InviteDate       string             `json:"inviteDate"`
	TTL              float64            `json:"ttl"`
	HasExpired       bool               `json:"hasExpired"`
}

func (s *Server) orgInvitesJSON(invites []*accountd.Invite) []orgInviteBody {
	now := s.svc.Now()
	out := make([]orgInviteBody, 0, len(invites))
	for _, i := range invites {
		b := orgInviteBody{ID: i.ID, Email: i.Email, Role: string(i.Role), DisallowTransfer: i.DisallowTransfer,
			InviteDate: accountd.FormatTime(i.CreatedAt), TTL: ttlMillis(i), HasExpired: i.Expired(now)}
		b.ApplicationRoles, b.DashboardRoles = resourceRolesJSON(i.ResourceRoles)
		out = append(out, b)
	}
	return out
}

// ttlMillis is the invitation's life in milliseconds, as the reference
// reports ttl.
func ttlMillis(i *accountd.Invite) float64 {
	return float64(i.ExpiresAt.Sub(i.CreatedAt).Milliseconds())
}

type orgInvitePostBody struct {
	Email            string             `json:"email"`
	Role             accountd.Role      `json:"role"`
	ApplicationRoles []resourceRoleBody `json:"applicationRoles"`
	DashboardRoles   []resourceRoleBody `json:"dashboardRoles"`
	DisallowTransfer bool               `json:"disallowTransfer"`
}

func (s *Server) inviteMember(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "orgId")
	if err != nil {
		return err
	}
	var b orgInvitePostBody
	if err := s.decode(r, "orgInvitePost", &b); err != nil {
		return err
	}
	invites, err := s.svc.InviteMember(r.Context(), principal(r), id, service.NewInvite{Email: b.Email, Role: b.Role,
		ApplicationRoles: resourceRoles(b.ApplicationRoles), DashboardRoles: resourceRoles(b.DashboardRoles), DisallowTransfer: b.DisallowTransfer})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.orgInvitesJSON(invites))
	return nil
}

func (s *Server) pendingInvites(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "orgId")
	if err != nil {
		return err
	}
	invites, err := s.svc.PendingInvites(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.orgInvitesJSON(invites))
	return nil
}

func (s *Server) revokeInvite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "orgId")
	if err != nil {
		return err
	}
	invites, err := s.svc.RevokeInvite(r.Context(), principal(r), id, r.URL.Query().Get("inviteId"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.orgInvitesJSON(invites))
	return nil
}

// userInviteBody is the reference orgInviteUser schema.
type userInviteBody struct {
	ID          string  `json:"id"`
	OrgName     string  `json:"orgName"`
	Role        string  `json:"role"`
	RequiresMFA bool    `json:"requiresMFA"`
	InviteDate  string  `json:"inviteDate"`
	TTL         float64 `json:"ttl"`
	Expired     bool    `json:"expired"`
	InvitedBy   struct {
		FullName string `json:"fullName"`
		Email    string `json:"email"`
	} `json:"invitedBy"`
}

func (s *Server) userInviteJSON(i *accountd.Invite) userInviteBody {
	org := accountd.Org{MFAMode: i.OrgMFAMode}
	b := userInviteBody{ID: i.ID, OrgName: i.OrgName, Role: string(i.Role), RequiresMFA: org.NeedsMFA(i.Role),
		InviteDate: accountd.FormatTime(i.CreatedAt), TTL: ttlMillis(i), Expired: i.Expired(s.svc.Now())}
	b.InvitedBy.FullName, b.InvitedBy.Email = i.InvitedByName, i.InvitedByEmail
	return b
}

func (s *Server) myInvites(w http.ResponseWriter, r *http.Request) error {
	invites, err := s.svc.MyInvites(r.Context(), principal(r))
	if err != nil {
		return err
	}
	out := make([]userInviteBody, 0, len(invites))
	for _, i := range invites {
		out = append(out, s.userInviteJSON(i))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) myInvite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "inviteId")
	if err != nil {
		return err
	}
	i, err := s.svc.MyInvite(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.userInviteJSON(i))
	return nil
}

func (s *Server) respondToInvite(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "inviteId")
	if err != nil {
		return err
	}
	var b struct {
		Action string `json:"action"`
	}
	if err := s.decode(r, "orgInviteActionUser", &b); err != nil {
		return err
	}
	result, orgID, err := s.svc.RespondToInvite(r.Context(), principal(r), id, b.Action)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Result string `json:"result"`
		OrgID  string `json:"orgId"`
	}{result, orgID})
	return nil
}
