package client

import (
	"context"
	"net/url"
	"time"
)

func (c *Client) initResources() {
	c.Orgs, c.Org = &OrgsService{c}, &OrgService{c}
	c.Applications, c.Application = &ApplicationsService{c}, &ApplicationService{c}
	c.Dashboards, c.Dashboard = &DashboardsService{c}, &DashboardService{c}
	c.Devices, c.Device = &DevicesService{c}, &DeviceService{c}
	c.Flows, c.Flow = &FlowsService{c}, &FlowService{c}
}

// Member is one member of an organization.
type Member struct {
	UserID    string `json:"userId"`
	Email     string `json:"email"`
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Role      string `json:"role"`

	AvatarURL        string         `json:"avatarUrl,omitempty"`
	ApplicationRoles []ResourceRole `json:"applicationRoles,omitempty"`
	DashboardRoles   []ResourceRole `json:"dashboardRoles,omitempty"`
}

// ResourceRole is a member's role on one application or dashboard of the
// organization (collaborate, view or none), in place of their organization
// role there.
type ResourceRole struct {
	ResourceID string `json:"resourceId"`
	Role       string `json:"role"`
}

// OrgSummary counts what an organization has.
type OrgSummary struct {
	AppCount           int `json:"appCount"`
	DashCount          int `json:"dashCount"`
	DeviceCount        int `json:"deviceCount"`
	FlowCount          int `json:"flowCount"`
	MemberCount        int `json:"memberCount"`
	PendingInviteCount int `json:"pendingInviteCount"`
}

// Org is an organization with its members.
type Org struct {
	ID           string    `json:"id"`
	OrgID        string    `json:"orgId"`
	CreationDate time.Time `json:"creationDate"`
	LastUpdated  time.Time `json:"lastUpdated"`
	Name         string    `json:"name"`
	Description  string    `json:"description,omitempty"`
	IconColor    string    `json:"iconColor,omitempty"`
	MFAMode      string    `json:"mfaMode"`
	Members      []Member  `json:"members"`

	PlanID                  string         `json:"planId,omitempty"`
	BillingEmail            string         `json:"billingEmail,omitempty"`
	Summary                 OrgSummary     `json:"summary"`
	Limits                  map[string]int `json:"limits,omitempty"`
	WhitelistedEmailDomains []string       `json:"whitelistedEmailDomains,omitempty"`
}

// OrgPost creates an organization; MFAMode is notRequired, adminRequired
// or required (default notRequired).
type OrgPost struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	IconColor   string `json:"iconColor,omitempty"`
	MFAMode     string `json:"mfaMode,omitempty"`

	PlanID       string `json:"planId,omitempty"`
	BillingEmail string `json:"billingEmail,omitempty"`
	CardToken    string `json:"cardToken,omitempty"` // checked, never kept
}

// Page is one page of a list.
type Page[T any] struct {
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

// OrgInvite is a pending invitation as the organization's admins see it.
type OrgInvite struct {
	ID         string    `json:"id"`
	Email      string    `json:"email"`
	Role       string    `json:"role"`
	InviteDate time.Time `json:"inviteDate"`
	TTL        float64   `json:"ttl"` // milliseconds
	HasExpired bool      `json:"hasExpired"`

	ApplicationRoles []ResourceRole `json:"applicationRoles,omitempty"`
	DashboardRoles   []ResourceRole `json:"dashboardRoles,omitempty"`
	DisallowTransfer bool           `json:"disallowTransfer,omitempty"`
}

// OrgInvitePost invites an email address with a role, and roles on single
// resources; DisallowTransfer keeps the member from transferring resources
// into the organization.
type OrgInvitePost struct {
	Email string `json:"email"`
	Role  string `json:"role"`

	ApplicationRoles []ResourceRole `json:"applicationRoles,omitempty"`
	DashboardRoles   []ResourceRole `json:"dashboardRoles,omitempty"`
	DisallowTransfer bool           `json:"disallowTransfer,omitempty"`
}

// OrgMemberPatch gives a member another role, or other roles on single
// resources (a nil list stays as it is; an empty one clears them).
type OrgMemberPatch struct {
	UserID string `json:"userId"`
	Role   string `json:"role,omitempty"`

	ApplicationRoles *[]ResourceRole `json:"applicationRoles,omitempty"`
	DashboardRoles   *[]ResourceRole `json:"dashboardRoles,omitempty"`
}

// UserInvite is an invitation as the invited user sees it.
type UserInvite struct {
	ID          string    `json:"id"`
	OrgName     string    `json:"orgName"`
	Role        string    `json:"role"`
	RequiresMFA bool      `json:"requiresMFA"`
	InviteDate  time.Time `json:"inviteDate"`
	TTL         float64   `json:"ttl"` // milliseconds
	Expired     bool      `json:"expired"`
	InvitedBy   struct {
		FullName string `json:"fullName"`
		Email    string `json:"email"`
	} `json:"invitedBy"`
}

// InviteResult is what answering an invitation did.
type InviteResult struct {
	Result string `json:"result"`
	OrgID  string `json:"orgId"`
}

// RecentItem names an item just used; ParentID is the application of a
// device or flow.
type RecentItem struct {
	ItemType string `json:"itemType"`
	ParentID string `json:"parentId,omitempty"`
	ItemID   string `json:"itemId"`
}

// RecentItemList is a recent-item list, most recent first.
type RecentItemList struct {
	ItemType string `json:"itemType"`
	ParentID string `json:"parentId,omitempty"`
	Items    []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"items"`
}

// ResourceTransfer moves the caller's applications and dashboards to a user
// or an organization.
type ResourceTransfer struct {
	DestinationID   string   `json:"destinationId"`
	DestinationType string   `json:"destinationType"` // "user" or "organization"
	ApplicationIDs  []string `json:"applicationIds,omitempty"`
	DashboardIDs    []string `json:"dashboardIds,omitempty"`
	Strict          bool     `json:"strict,omitempty"`
}

// TransferResult says what a non-strict transfer did not move (accountd
// extension; nil when everything moved).
type TransferResult struct {
	Success        bool `json:"success"`
	NotTransferred *struct {
		ApplicationIDs []string `json:"applicationIds"`
		DashboardIDs   []string `json:"dashboardIds"`
	} `json:"notTransferred,omitempty"`
}

// Invites lists the pending invitations addressed to the signed-in user
// (GET /me/invites).
func (s *MeService) Invites(ctx context.Context) ([]UserInvite, error) {
	var out []UserInvite
	return out, s.c.do(ctx, "GET", "/me/invites", nil, nil, &out)
}

// Invite returns one of them (GET /me/invites/{inviteId}).
func (s *MeService) Invite(ctx context.Context, inviteID string) (*UserInvite, error) {
	if err := checkID("inviteId", inviteID); err != nil {
		return nil, err
	}
	var out UserInvite
	return &out, s.c.do(ctx, "GET", "/me/invites/"+inviteID, nil, nil, &out)
}

// RespondToInvite accepts, rejects or dismisses an invitation
// (POST /me/invites/{inviteId}); action is "accept", "reject" or "dismiss".
func (s *MeService) RespondToInvite(ctx context.Context, inviteID, action string) (*InviteResult, error) {
	if err := checkID("inviteId", inviteID); err != nil {
		return nil, err
	}
	var out InviteResult
	return &out, s.c.do(ctx, "POST", "/me/invites/"+inviteID, nil, map[string]string{"action": action}, &out)
}

// AddRecentItem puts an item first in its recent list (POST /me/recentItems).
func (s *MeService) AddRecentItem(ctx context.Context, item RecentItem) (*RecentItemList, error) {
	var out RecentItemList
	return &out, s.c.do(ctx, "POST", "/me/recentItems", nil, item, &out)
}

// FetchRecentItems lists recent items of a type (GET /me/recentItems);
// parentID is the application for devices and flows, "" otherwise.
func (s *MeService) FetchRecentItems(ctx context.Context, itemType, parentID string) (*RecentItemList, error) {
	q := url.Values{"itemType": {itemType}}
	if parentID != "" {
		q.Set("parentId", parentID)
	}
	var out RecentItemList
	return &out, s.c.do(ctx, "GET", "/me/recentItems", q, nil, &out)
}

// TransferResources moves applications and dashboards
// (PATCH /me/transferResources).
func (s *MeService) TransferResources(ctx context.Context, t ResourceTransfer) (*TransferResult, error) {
	var out TransferResult
	return &out, s.c.do(ctx, "PATCH", "/me/transferResources", nil, t, &out)
}

// OrgsService holds the actions on the signed-in user's organizations.
type OrgsService struct{ c *Client }

// Get lists the organizations the user is a member of (GET /orgs).
func (s *OrgsService) Get(ctx context.Context, p *ListParams) (*Page[Org], error) {
	var out Page[Org]
	return &out, s.c.do(ctx, "GET", "/orgs", listQuery(p), nil, &out)
}

// Post creates an organization with the user as admin (POST /orgs).
func (s *OrgsService) Post(ctx context.Context, o OrgPost) (*Org, error) {
	var out Org
	return &out, s.c.do(ctx, "POST", "/orgs", nil, o, &out)
}

// OrgService holds the actions on one organization.
type OrgService struct{ c *Client }

func orgPath(orgID, rest string) (string, error) {
	if err := checkID("orgId", orgID); err != nil {
		return "", err
	}
	return "/orgs/" + orgID + rest, nil
}

// Get returns an organization (GET /orgs/{orgId}).
func (s *OrgService) Get(ctx context.Context, orgID string) (*Org, error) {
	return s.org(ctx, "GET", orgID, "", nil, nil)
}

func (s *OrgService) org(ctx context.Context, method, orgID, rest string, q url.Values, body any) (*Org, error) {
	path, err := orgPath(orgID, rest)
	if err != nil {
		return nil, err
	}
	var out Org
	return &out, s.c.do(ctx, method, path, q, body, &out)
}

// Delete removes an organization (DELETE /orgs/{orgId}).
func (s *OrgService) Delete(ctx context.Context, orgID string) error {
	path, err := orgPath(orgID, "")
	if err != nil {
		return err
	}
	return s.c.do(ctx, "DELETE", path, nil, nil, &Success{})
}

// ModifyMember changes a member's role (PATCH /orgs/{orgId}/member).
func (s *OrgService) ModifyMember(ctx context.Context, orgID string, m OrgMemberPatch) (*Org, error) {
	return s.org(ctx, "PATCH", orgID, "/member", nil, m)
}

// RemoveMember removes a member, or the user themselves
// (DELETE /orgs/{orgId}/member?userId=).
func (s *OrgService) RemoveMember(ctx context.Context, orgID, userID string) (*Org, error) {
	if err := checkID("userId", userID); err != nil {
		return nil, err
	}
	return s.org(ctx, "DELETE", orgID, "/member", url.Values{"userId": {userID}}, nil)
}

func (s *OrgService) invites(ctx context.Context, method, orgID string, q url.Values, body any) ([]OrgInvite, error) {
	path, err := orgPath(orgID, "/invites")
	if err != nil {
		return nil, err
	}
	var out []OrgInvite
	return out, s.c.do(ctx, method, path, q, body, &out)
}

// InviteMember invites an email address (POST /orgs/{orgId}/invites) and
// returns the pending invitations.
func (s *OrgService) InviteMember(ctx context.Context, orgID string, i OrgInvitePost) ([]OrgInvite, error) {
	return s.invites(ctx, "POST", orgID, nil, i)
}

// PendingInvites lists the pending invitations (GET /orgs/{orgId}/invites).
func (s *OrgService) PendingInvites(ctx context.Context, orgID string) ([]OrgInvite, error) {
	return s.invites(ctx, "GET", orgID, nil, nil)
}

// RevokeInvite withdraws an invitation (DELETE /orgs/{orgId}/invites).
func (s *OrgService) RevokeInvite(ctx context.Context, orgID, inviteID string) ([]OrgInvite, error) {
	if err := checkID("inviteId", inviteID); err != nil {
		return nil, err
	}
	return s.invites(ctx, "DELETE", orgID, url.Values{"inviteId": {inviteID}}, nil)
}

// Owned is an application or dashboard.
type Owned struct {
	ID               string    `json:"id"`
	ApplicationID    string    `json:"applicationId,omitempty"`
	DashboardID      string    `json:"dashboardId,omitempty"`
	CreationDate     time.Time `json:"creationDate"`
	LastUpdated      time.Time `json:"lastUpdated"`
	OwnerID          string    `json:"ownerId"`
	OwnerType        string    `json:"ownerType"`
	OrganizationName string    `json:"organizationName,omitempty"`
	Name             string    `json:"name"`
	Description      string    `json:"description,omitempty"`
	// IsPasswordProtected is a dashboard's: whether its public view has a
	// password.
	IsPasswordProtected *bool `json:"isPasswordProtected,omitempty"`
	// Data holds the other documented properties (an application's
	// globals, a dashboard's blocks, ...) as the server returned them.
	Data Data `json:"-"`
}

// OwnedPost creates an application or dashboard, owned by the caller or,
// with OrgID, by an organization. ApplicationID and Password are a
// dashboard's. Data carries any other documented property of
// applicationPost or dashboardPost, sent alongside the fields.
type OwnedPost struct {
	OrgID         string  `json:"orgId,omitempty"`
	Name          string  `json:"name"`
	Description   string  `json:"description,omitempty"`
	ApplicationID string  `json:"applicationId,omitempty"`
	Password      *string `json:"password,omitempty"`
	Data          Data    `json:"-"`
}

// OwnedListParams are ListParams with the orgId filter: OrgID for one
// organization's, or Own for only the caller's own (orgId sent blank).
// ApplicationID filters dashboards: set to a pointer to "" for those linked
// to no application.
type OwnedListParams struct {
	ListParams
	OrgID         string
	Own           bool
	ApplicationID *string
}

func ownedQuery(p *OwnedListParams) url.Values {
	if p == nil {
		return nil
	}
	q := listQuery(&p.ListParams)
	if p.OrgID != "" {
		q.Set("orgId", p.OrgID)
	} else if p.Own {
		q.Set("orgId", "")
	}
	if p.ApplicationID != nil {
		q.Set("applicationId", *p.ApplicationID)
	}
	return q
}

// ApplicationsService holds the actions on the applications collection.
type ApplicationsService struct{ c *Client }

// Get lists the applications the user can see (GET /applications).
func (s *ApplicationsService) Get(ctx context.Context, p *OwnedListParams) (*Page[Owned], error) {
	var out Page[Owned]
	return &out, s.c.do(ctx, "GET", "/applications", ownedQuery(p), nil, &out)
}

// Post creates an application (POST /applications).
func (s *ApplicationsService) Post(ctx context.Context, a OwnedPost) (*Owned, error) {
	var out Owned
	return &out, s.c.do(ctx, "POST", "/applications", nil, a, &out)
}

// ApplicationService holds the actions on one application.
type ApplicationService struct{ c *Client }

// Get returns an application (GET /applications/{applicationId}).
func (s *ApplicationService) Get(ctx context.Context, applicationID string) (*Owned, error) {
	if err := checkID("applicationId", applicationID); err != nil {
		return nil, err
	}
	var out Owned
	return &out, s.c.do(ctx, "GET", "/applications/"+applicationID, nil, nil, &out)
}

// Delete removes an application with its devices and flows
// (DELETE /applications/{applicationId}).
func (s *ApplicationService) Delete(ctx context.Context, applicationID string) error {
	if err := checkID("applicationId", applicationID); err != nil {
		return err
	}
	return s.c.do(ctx, "DELETE", "/applications/"+applicationID, nil, nil, &Success{})
}

// DashboardsService holds the actions on the dashboards collection.
type DashboardsService struct{ c *Client }

// Get lists the dashboards the user can see (GET /dashboards).
func (s *DashboardsService) Get(ctx context.Context, p *OwnedListParams) (*Page[Owned], error) {
	var out Page[Owned]
	return &out, s.c.do(ctx, "GET", "/dashboards", ownedQuery(p), nil, &out)
}

// Post creates a dashboard (POST /dashboards).
func (s *DashboardsService) Post(ctx context.Context, d OwnedPost) (*Owned, error) {
	var out Owned
	return &out, s.c.do(ctx, "POST", "/dashboards", nil, d, &out)
}

// DashboardService holds the actions on one dashboard.
type DashboardService struct{ c *Client }

// Get returns a dashboard (GET /dashboards/{dashboardId}).
func (s *DashboardService) Get(ctx context.Context, dashboardID string) (*Owned, error) {
	if err := checkID("dashboardId", dashboardID); err != nil {
		return nil, err
	}
	var out Owned
	return &out, s.c.do(ctx, "GET", "/dashboards/"+dashboardID, nil, nil, &out)
}

// Delete removes a dashboard (DELETE /dashboards/{dashboardId}).
func (s *DashboardService) Delete(ctx context.Context, dashboardID string) error {
	if err := checkID("dashboardId", dashboardID); err != nil {
		return err
	}
	return s.c.do(ctx, "DELETE", "/dashboards/"+dashboardID, nil, nil, &Success{})
}

// Device is a device of an application.
type Device struct {
	ID            string    `json:"id"`
	DeviceID      string    `json:"deviceId"`
	ApplicationID string    `json:"applicationId"`
	CreationDate  time.Time `json:"creationDate"`
	LastUpdated   time.Time `json:"lastUpdated"`
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	DeviceClass   string    `json:"deviceClass"`
	ParentID      string    `json:"parentId,omitempty"`
	GatewayID     string    `json:"gatewayId,omitempty"`
	Tags          []Tag     `json:"tags,omitempty"`
	// Data holds the other documented properties (attributes,
	// systemInterval, ...) as the server returned them.
	Data Data `json:"-"`
}

// DevicePost creates a device; DeviceClass defaults to standalone.
// ParentID and GatewayID must be devices of the same application. Data
// carries any other documented property of devicePost (attributes, ...).
type DevicePost struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	DeviceClass string `json:"deviceClass,omitempty"`
	ParentID    string `json:"parentId,omitempty"`
	GatewayID   string `json:"gatewayId,omitempty"`
	Tags        []Tag  `json:"tags,omitempty"`
	Data        Data   `json:"-"`
}

func appPath(applicationID, rest string) (string, error) {
	if err := checkID("applicationId", applicationID); err != nil {
		return "", err
	}
	return "/applications/" + applicationID + rest, nil
}

func childPath(applicationID, kind, idName, id string) (string, error) {
	if err := checkID(idName, id); err != nil {
		return "", err
	}
	return appPath(applicationID, "/"+kind+"/"+id)
}

// DevicesService holds the actions on an application's devices.
type DevicesService struct{ c *Client }

// Get lists an application's devices (GET /applications/{applicationId}/devices).
func (s *DevicesService) Get(ctx context.Context, applicationID string, p *ListParams) (*Page[Device], error) {
	var fp *DeviceListParams
	if p != nil {
		fp = &DeviceListParams{ListParams: *p}
	}
	return s.GetFiltered(ctx, applicationID, fp)
}

// GetFiltered lists an application's devices with the list's filters.
func (s *DevicesService) GetFiltered(ctx context.Context, applicationID string, p *DeviceListParams) (*Page[Device], error) {
	path, err := appPath(applicationID, "/devices")
	if err != nil {
		return nil, err
	}
	var out Page[Device]
	return &out, s.c.do(ctx, "GET", path, p.query(), nil, &out)
}

// Post adds a device (POST /applications/{applicationId}/devices).
func (s *DevicesService) Post(ctx context.Context, applicationID string, d DevicePost) (*Device, error) {
	path, err := appPath(applicationID, "/devices")
	if err != nil {
		return nil, err
	}
	var out Device
	return &out, s.c.do(ctx, "POST", path, nil, d, &out)
}

// DeviceService holds the actions on one device.
type DeviceService struct{ c *Client }

// Get returns a device (GET /applications/{applicationId}/devices/{deviceId}).
func (s *DeviceService) Get(ctx context.Context, applicationID, deviceID string) (*Device, error) {
	path, err := childPath(applicationID, "devices", "deviceId", deviceID)
	if err != nil {
		return nil, err
	}
	var out Device
	return &out, s.c.do(ctx, "GET", path, nil, nil, &out)
}

// Delete removes a device (DELETE /applications/{applicationId}/devices/{deviceId}).
func (s *DeviceService) Delete(ctx context.Context, applicationID, deviceID string) error {
	path, err := childPath(applicationID, "devices", "deviceId", deviceID)
	if err != nil {
		return err
	}
	return s.c.do(ctx, "DELETE", path, nil, nil, &Success{})
}

// Flow is a flow of an application.
type Flow struct {
	ID            string    `json:"id"`
	FlowID        string    `json:"flowId"`
	ApplicationID string    `json:"applicationId"`
	CreationDate  time.Time `json:"creationDate"`
	LastUpdated   time.Time `json:"lastUpdated"`
	Name          string    `json:"name"`
	Description   string    `json:"description,omitempty"`
	Enabled       bool      `json:"enabled"`
	FlowClass     string    `json:"flowClass"`
	// Data holds the other documented properties (triggers, nodes, ...) as
	// the server returned them.
	Data Data `json:"-"`
}

// FlowPost creates a flow; FlowClass defaults to cloud. Data carries any
// other documented property of flowPost (triggers, nodes, ...).
type FlowPost struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled,omitempty"`
	FlowClass   string `json:"flowClass,omitempty"`
	Data        Data   `json:"-"`
}

// FlowsService holds the actions on an application's flows.
type FlowsService struct{ c *Client }

// Get lists an application's flows (GET /applications/{applicationId}/flows).
func (s *FlowsService) Get(ctx context.Context, applicationID string, p *ListParams) (*Page[Flow], error) {
	var fp *FlowListParams
	if p != nil {
		fp = &FlowListParams{ListParams: *p}
	}
	return s.GetFiltered(ctx, applicationID, fp)
}

// GetFiltered lists an application's flows of the given classes.
func (s *FlowsService) GetFiltered(ctx context.Context, applicationID string, p *FlowListParams) (*Page[Flow], error) {
	path, err := appPath(applicationID, "/flows")
	if err != nil {
		return nil, err
	}
	var out Page[Flow]
	return &out, s.c.do(ctx, "GET", path, p.query(), nil, &out)
}

// Post adds a flow (POST /applications/{applicationId}/flows).
func (s *FlowsService) Post(ctx context.Context, applicationID string, f FlowPost) (*Flow, error) {
	path, err := appPath(applicationID, "/flows")
	if err != nil {
		return nil, err
	}
	var out Flow
	return &out, s.c.do(ctx, "POST", path, nil, f, &out)
}

// FlowService holds the actions on one flow.
type FlowService struct{ c *Client }

// Get returns a flow (GET /applications/{applicationId}/flows/{flowId}).
func (s *FlowService) Get(ctx context.Context, applicationID, flowID string) (*Flow, error) {
	path, err := childPath(applicationID, "flows", "flowId", flowID)
	if err != nil {
		return nil, err
	}
	var out Flow
	return &out, s.c.do(ctx, "GET", path, nil, nil, &out)
}

// Delete removes a flow (DELETE /applications/{applicationId}/flows/{flowId}).
func (s *FlowService) Delete(ctx context.Context, applicationID, flowID string) error {
	path, err := childPath(applicationID, "flows", "flowId", flowID)
	if err != nil {
		return err
	}
	return s.c.do(ctx, "DELETE", path, nil, nil, &Success{})
}
