package service

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/accountd/accountd"
)

// NewOwned is what POST /applications and POST /dashboards carry: with
// OrgID the organization owns the new resource, otherwise the caller does.
// Data is the JSON object of the other documented properties, kept as
// data. ApplicationID and Password are a dashboard's: the application it
// is linked to, and the password of its public view (nil for none).
type NewOwned struct {
	OrgID, Name, Description string
	Data                     []byte
	ApplicationID            string
	Password                 *string
}

// ownedSortFields are the sort fields of application lists; dashboards
// also sort by their application.
var (
	ownedSortFields = []string{"name", "id", "creationDate", "ownerId", "lastUpdated"}
	dashSortFields  = []string{"name", "id", "creationDate", "ownerId", "applicationId", "lastUpdated"}
)

// ListOwned is what an application or dashboard list selects beyond paging:
// OrgID as the orgId parameter (Own when it was given blank), and for
// dashboards ApplicationID as applicationId (HasApplication when given).
type ListOwned struct {
	OrgID          string
	Own            bool
	ApplicationID  string
	HasApplication bool
}

func (s *Service) newOwned(ctx context.Context, p accountd.Principal, n NewOwned, maxDescription int) (accountd.Owned, error) {
	now := accountd.Millis(s.now())
	o := accountd.Owned{ID: accountd.NewID(now), OwnerType: accountd.OwnerUser, OwnerID: p.UserID,
		Name: n.Name, Description: n.Description, Data: n.Data, CreatedAt: now, UpdatedAt: now}
	if n.OrgID != "" {
		org, _, err := s.orgFor(ctx, s.store, p, n.OrgID, opWrite)
		if errors.Is(err, accountd.ErrNotFound) {
			return o, accountd.Invalid("orgId", "is not an organization you are a member of")
		}
		if err != nil {
			return o, err
		}
		o.OwnerType, o.OwnerID, o.OrgName = accountd.OwnerOrg, org.ID, org.Name
	}
	return o, o.Validate(maxDescription)
}

// listScope checks that the caller may list what l.OrgID owns ("" for all
// they can see, or with Own for what they own themselves).
func (s *Service) listScope(ctx context.Context, p accountd.Principal, l ListOwned) (accountd.Scope, error) {
	orgID := l.OrgID
	if orgID == "" {
		return accountd.Scope{UserID: p.UserID, OwnOnly: l.Own}, nil
	}
	if !accountd.ValidID(orgID) {
		return accountd.Scope{}, accountd.Invalid("orgId", "must be 24 hex characters or blank")
	}
	if _, _, err := s.orgFor(ctx, s.store, p, orgID, opRead); err != nil {
		return accountd.Scope{}, err
	}
	return accountd.Scope{UserID: p.UserID, OrgID: orgID}, nil
}

// CreateApplication makes an application owned by the caller or, with
// OrgID, by an organization where the caller may add resources.
func (s *Service) CreateApplication(ctx context.Context, p accountd.Principal, n NewOwned) (*accountd.Application, error) {
	o, err := s.newOwned(ctx, p, n, accountd.MaxAppDescriptionLen)
	if err != nil {
		return nil, err
	}
	a := &accountd.Application{Owned: o}
	return a, s.createWithin(ctx, o.OwnerType, o.OwnerID, accountd.KindApplication, func(st accountd.Store) error {
		return st.CreateApplication(ctx, a)
	})
}

// Application returns an application the caller can see.
func (s *Service) Application(ctx context.Context, p accountd.Principal, id string) (*accountd.Application, error) {
	return s.appFor(ctx, p, id, opRead)
}

// Page is one page of a list, with the query as applied.
type Page[T any] struct {
	Items []T
	Total int
	Query accountd.ListQuery
}

// Applications lists the applications the caller can see, or those of one
// of their organizations.
func (s *Service) Applications(ctx context.Context, p accountd.Principal, l ListOwned, q accountd.ListQuery) (Page[*accountd.Application], error) {
	if err := checkList(&q, ownedSortFields); err != nil {
		return Page[*accountd.Application]{}, err
	}
	sc, err := s.listScope(ctx, p, l)
	if err != nil {
		return Page[*accountd.Application]{}, err
	}
	items, total, err := s.store.Applications(ctx, sc, q)
	return Page[*accountd.Application]{Items: items, Total: total, Query: q}, err
}

// DeleteApplication removes an application with its devices and flows.
func (s *Service) DeleteApplication(ctx context.Context, p accountd.Principal, id string) error {
	a, err := s.appFor(ctx, p, id, opDelete)
	if err != nil {
		return err
	}
	return s.store.DeleteApplication(ctx, a.ID, accountd.Millis(s.now()))
}

// CreateDashboard makes a dashboard, owned as CreateApplication says.
func (s *Service) CreateDashboard(ctx context.Context, p accountd.Principal, n NewOwned) (*accountd.Dashboard, error) {
	o, err := s.newOwned(ctx, p, n, accountd.MaxDescriptionLen)
	if err != nil {
		return nil, err
	}
	d := &accountd.Dashboard{Owned: o}
	if n.ApplicationID != "" {
		a, err := s.appFor(ctx, p, n.ApplicationID, opRead)
		if errors.Is(err, accountd.ErrNotFound) {
			return nil, accountd.Invalid("applicationId", "is not an application you can see")
		}
		if err != nil {
			return nil, err
		}
		d.ApplicationID = a.ID
	}
	if n.Password != nil {
		// the reference gives a dashboard's password the account password
		// rule; only the hash is kept
		if err := accountd.ValidatePassword("password", *n.Password); err != nil {
			return nil, err
		}
		if d.PasswordHash, err = s.hashPassword(ctx, *n.Password); err != nil {
			return nil, err
		}
	}
	return d, s.createWithin(ctx, o.OwnerType, o.OwnerID, accountd.KindDashboard, func(st accountd.Store) error {
		return st.CreateDashboard(ctx, d)
	})
}

// Dashboard returns a dashboard the caller can see.
func (s *Service) Dashboard(ctx context.Context, p accountd.Principal, id string) (*accountd.Dashboard, error) {
	return s.dashFor(ctx, p, id, opRead)
}

// Dashboards lists the dashboards the caller can see, or those of one of
// their organizations.
func (s *Service) Dashboards(ctx context.Context, p accountd.Principal, l ListOwned, q accountd.ListQuery) (Page[*accountd.Dashboard], error) {
	if err := checkList(&q, dashSortFields); err != nil {
		return Page[*accountd.Dashboard]{}, err
	}
	if l.ApplicationID != "" && !accountd.ValidID(l.ApplicationID) {
		return Page[*accountd.Dashboard]{}, accountd.Invalid("applicationId", "must be 24 hex characters or blank")
	}
	sc, err := s.listScope(ctx, p, l)
	if err != nil {
		return Page[*accountd.Dashboard]{}, err
	}
	sc.ApplicationID, sc.HasApplication = l.ApplicationID, l.HasApplication
	items, total, err := s.store.Dashboards(ctx, sc, q)
	return Page[*accountd.Dashboard]{Items: items, Total: total, Query: q}, err
}

// DeleteDashboard removes a dashboard.
func (s *Service) DeleteDashboard(ctx context.Context, p accountd.Principal, id string) error {
	d, err := s.dashFor(ctx, p, id, opDelete)
	if err != nil {
		return err
	}
	return s.store.DeleteDashboard(ctx, d.ID)
}

// Device classes and flow classes of the reference schemas.
var (
	DeviceClasses = []string{"standalone", "gateway", "peripheral", "floating", "edgeCompute", "system", "embedded"}
	FlowClasses   = []string{"cloud", "edge", "embedded", "experience", "customNode"}
	childSorts    = []string{"name", "id", "creationDate", "lastUpdated"}
	// deviceSorts adds the reference's connectionStatus and deletedAt:
	// accountd tracks no connections and lists no deleted device, so every
	// device ties on both and is ordered by the id, the tie-breaker.
	deviceSorts = append(slices.Clip(childSorts), "connectionStatus", "deletedAt")
	// tagKey is the reference's pattern of tag keys.
	tagKey = regexp.MustCompile(`^[0-9a-zA-Z_-]{1,255}$`)
)

// maxTagFilters bounds the pairs of one tagFilter, as the reference's
// deviceTagFilter bounds its items.
const maxTagFilters = 100

// maxTriggerFilters is the reference's bound on a triggerFilter's pairs
// (flowTriggerFilter.json).
const maxTriggerFilters = 100

// NewDevice is what POST /applications/{id}/devices carries. ParentID and
// GatewayID must name devices of the same application; Tags are also in
// Data, the JSON object of the documented properties kept as data.
type NewDevice struct {
	Name, Description, DeviceClass string
	ParentID, GatewayID            string
	Tags                           []accountd.Tag
	Data                           []byte
}

// CreateDevice adds a device to an application the caller may change.
func (s *Service) CreateDevice(ctx context.Context, p accountd.Principal, appID string, n NewDevice) (*accountd.Device, error) {
	if n.DeviceClass == "" {
		n.DeviceClass = "standalone"
	}
	if !slices.Contains(DeviceClasses, n.DeviceClass) {
		return nil, accountd.Invalid("deviceClass", "must be one of %s", strings.Join(DeviceClasses, ", "))
	}
	a, err := s.appFor(ctx, p, appID, opWrite)
	if err != nil {
		return nil, err
	}
	for _, rel := range []struct{ field, id string }{{"parentId", n.ParentID}, {"gatewayId", n.GatewayID}} {
		if rel.id == "" {
			continue
		}
		if !accountd.ValidID(rel.id) {
			return nil, accountd.Invalid(rel.field, "must be 24 hex characters")
		}
		if _, err := s.store.Device(ctx, a.ID, rel.id); errors.Is(err, accountd.ErrNotFound) {
			return nil, accountd.Invalid(rel.field, "is not a device of this application")
		} else if err != nil {
			return nil, err
		}
	}
	now := accountd.Millis(s.now())
	d := &accountd.Device{ID: accountd.NewID(now), ApplicationID: a.ID, Name: n.Name, Description: n.Description,
		DeviceClass: n.DeviceClass, ParentID: n.ParentID, GatewayID: n.GatewayID, Tags: n.Tags, Data: n.Data,
		CreatedAt: now, UpdatedAt: now}
	if err := accountd.ValidateChild(d.ID, d.ApplicationID, d.Name, d.Description); err != nil {
		return nil, err
	}
	return d, s.createWithin(ctx, a.OwnerType, a.OwnerID, accountd.KindDevice, func(st accountd.Store) error {
		return st.CreateDevice(ctx, d)
	})
}

// Device returns a device of an application the caller can see.
func (s *Service) Device(ctx context.Context, p accountd.Principal, appID, id string) (*accountd.Device, error) {
	a, err := s.appFor(ctx, p, appID, opRead)
	if err != nil {
		return nil, err
	}
	if !accountd.ValidID(id) {
		return nil, accountd.Invalid("deviceId", "must be 24 hex characters")
	}
	return s.store.Device(ctx, a.ID, id)
}

// Devices lists the devices of an application the caller can see, those
// f selects (its ApplicationID is appID's).
func (s *Service) Devices(ctx context.Context, p accountd.Principal, appID string, f accountd.DeviceFilter, q accountd.ListQuery) (Page[*accountd.Device], error) {
	if f.Query != nil {
		q.FilterField, q.Filter = "", "" // overridden by the query, as the reference says
	}
	if err := checkList(&q, deviceSorts); err != nil {
		return Page[*accountd.Device]{}, err
	}
	if f.Query != nil {
		// the reference: an advanced query overrides these
		f.Classes, f.Tags, f.ParentID, f.HasParent = nil, nil, "", false
	}
	for _, c := range f.Classes {
		if !slices.Contains(DeviceClasses, c) {
			return Page[*accountd.Device]{}, accountd.Invalid("deviceClass", "must be one of %s", strings.Join(DeviceClasses, ", "))
		}
	}
	if f.HasParent && f.ParentID != "" && !accountd.ValidID(f.ParentID) {
		return Page[*accountd.Device]{}, accountd.Invalid("parentId", "must be 24 hex characters or blank")
	}
	for _, t := range f.Tags {
		if t.Key == "" && t.Value == "" {
			return Page[*accountd.Device]{}, accountd.Invalid("tagFilter", "each pair must have a key or a value")
		}
		if t.Key != "" && !tagKey.MatchString(t.Key) {
			return Page[*accountd.Device]{}, accountd.Invalid("tagFilter", "keys must be 1 to 255 letters, digits, _ or -")
		}
		if utf8.RuneCountInString(t.Value) > 255 {
			return Page[*accountd.Device]{}, accountd.Invalid("tagFilter", "values must be at most 255 characters")
		}
	}
	if len(f.Tags) > maxTagFilters {
		return Page[*accountd.Device]{}, accountd.Invalid("tagFilter", "must have at most %d pairs", maxTagFilters)
	}
	a, err := s.appFor(ctx, p, appID, opRead)
	if err != nil {
		return Page[*accountd.Device]{}, err
	}
	if f.Deleted {
		// Devices are deleted outright: none is kept to be listed.
		return Page[*accountd.Device]{Items: []*accountd.Device{}, Query: q}, nil
	}
	f.ApplicationID = a.ID
	sq := q
	if sq.SortField == "connectionStatus" || sq.SortField == "deletedAt" {
		sq.SortField = "id" // every device ties on them (deviceSorts)
	}
	items, total, err := s.store.Devices(ctx, f, sq)
	return Page[*accountd.Device]{Items: items, Total: total, Query: q}, err
}

// DeleteDevice removes a device.
func (s *Service) DeleteDevice(ctx context.Context, p accountd.Principal, appID, id string) error {
	a, err := s.appFor(ctx, p, appID, opWrite)
	if err != nil {
		return err
	}
	if !accountd.ValidID(id) {
		return accountd.Invalid("deviceId", "must be 24 hex characters")
	}
	return s.store.DeleteDevice(ctx, a.ID, id, accountd.Millis(s.now()))
}

// NewFlow is what POST /applications/{id}/flows carries; Data is the JSON
// object of the other documented properties, kept as data.
type NewFlow struct {
	Name, Description, FlowClass string
	Enabled                      bool
	Data                         []byte
}

// CreateFlow adds a flow to an application the caller may change.
func (s *Service) CreateFlow(ctx context.Context, p accountd.Principal, appID string, n NewFlow) (*accountd.Flow, error) {
	if n.FlowClass == "" {
		n.FlowClass = "cloud"
	}
	if !slices.Contains(FlowClasses, n.FlowClass) {
		return nil, accountd.Invalid("flowClass", "must be one of %s", strings.Join(FlowClasses, ", "))
	}
	a, err := s.appFor(ctx, p, appID, opWrite)
	if err != nil {
		return nil, err
	}
	now := accountd.Millis(s.now())
	f := &accountd.Flow{ID: accountd.NewID(now), ApplicationID: a.ID, Name: n.Name, Description: n.Description,
		Enabled: n.Enabled, FlowClass: n.FlowClass, Data: n.Data, CreatedAt: now, UpdatedAt: now}
	if err := accountd.ValidateChild(f.ID, f.ApplicationID, f.Name, f.Description); err != nil {
		return nil, err
	}
	return f, s.store.CreateFlow(ctx, f)
}

// Flow returns a flow of an application the caller can see.
func (s *Service) Flow(ctx context.Context, p accountd.Principal, appID, id string) (*accountd.Flow, error) {
	a, err := s.appFor(ctx, p, appID, opRead)
	if err != nil {
		return nil, err
	}
	if !accountd.ValidID(id) {
		return nil, accountd.Invalid("flowId", "must be 24 hex characters")
	}
	return s.store.Flow(ctx, a.ID, id)
}

// Flows lists the flows of an application the caller can see, of the
// flow classes f names: the cloud class when it names none, as the
// reference's default.
func (s *Service) Flows(ctx context.Context, p accountd.Principal, appID string, f accountd.FlowFilter, q accountd.ListQuery) (Page[*accountd.Flow], error) {
	if f.Query != nil {
		q.FilterField, q.Filter = "", "" // overridden by the query, as the reference says
	}
	if err := checkList(&q, childSorts); err != nil {
		return Page[*accountd.Flow]{}, err
	}
	if f.Query != nil {
		// the reference: an advanced query overrides flowClass (and its
		// default) and triggerFilter
		f.Classes, f.Triggers = nil, nil
	} else if len(f.Classes) == 0 {
		f.Classes = []string{"cloud"}
	}
	for _, c := range f.Classes {
		if !slices.Contains(FlowClasses, c) {
			return Page[*accountd.Flow]{}, accountd.Invalid("flowClass", "must be one of %s", strings.Join(FlowClasses, ", "))
		}
	}
	if len(f.Triggers) > maxTriggerFilters {
		return Page[*accountd.Flow]{}, accountd.Invalid("triggerFilter", "must have at most %d pairs", maxTriggerFilters)
	}
	for _, t := range f.Triggers {
		if t.Key == "" && t.Type == "" {
			return Page[*accountd.Flow]{}, accountd.Invalid("triggerFilter", "each pair must have a key or a type")
		}
		if utf8.RuneCountInString(t.Key) > 1024 || utf8.RuneCountInString(t.Type) > 1024 {
			return Page[*accountd.Flow]{}, accountd.Invalid("triggerFilter", "keys and types must be at most 1024 characters")
		}
	}
	a, err := s.appFor(ctx, p, appID, opRead)
	if err != nil {
		return Page[*accountd.Flow]{}, err
	}
	f.ApplicationID = a.ID
	items, total, err := s.store.Flows(ctx, f, q)
	return Page[*accountd.Flow]{Items: items, Total: total, Query: q}, err
}

// DeleteFlow removes a flow.
func (s *Service) DeleteFlow(ctx context.Context, p accountd.Principal, appID, id string) error {
	a, err := s.appFor(ctx, p, appID, opWrite)
	if err != nil {
		return err
	}
	if !accountd.ValidID(id) {
		return accountd.Invalid("flowId", "must be 24 hex characters")
	}
	return s.store.DeleteFlow(ctx, a.ID, id)
}
